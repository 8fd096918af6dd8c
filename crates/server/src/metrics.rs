//! `/metrics`: what an operator scrapes, in the Prometheus text exposition format (0.0.4). Per
//! city: each job's last run, whether it succeeded and how late it is; the outbox's depth and
//! dead letters; the last successful forecast cycle. Public like `/readyz`: counts and times only,
//! never a job's detail.

use std::fmt::Write as _;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use crate::{ApiError, AppState};

/// One metric family: its help, its type and its samples (labels, value).
struct Family {
    name: &'static str,
    help: &'static str,
    samples: Vec<(Vec<(&'static str, String)>, f64)>,
}

/// A label value with `\`, `"` and newlines escaped, as the format asks.
fn label_value(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn render(families: &[Family]) -> String {
    let mut out = String::new();
    for f in families {
        let _ = writeln!(out, "# HELP {} {}", f.name, f.help);
        let _ = writeln!(out, "# TYPE {} gauge", f.name);
        for (labels, value) in &f.samples {
            let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", label_value(v))).collect();
            let _ = writeln!(out, "{}{{{}}} {value}", f.name, labels.join(","));
        }
    }
    out
}

fn seconds(rfc3339: &Option<String>) -> Option<f64> {
    let t = DateTime::parse_from_rfc3339(rfc3339.as_deref()?).ok()?;
    Some(t.timestamp_millis() as f64 / 1000.0)
}

fn text(families: &[Family]) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], render(families)).into_response()
}

pub(crate) async fn metrics(State(s): State<AppState>) -> Result<Response, ApiError> {
    Ok(text(&city_families(&s.city, Utc::now()).await?))
}

/// Every city's families, each family once with every city's samples, and the province's
/// advisory answers still owed.
pub(crate) async fn province_metrics(
    State(s): State<crate::province_view::ProvinceState>,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    let mut families: Vec<Family> = Vec::new();
    for city in &s.province.cities {
        for (k, f) in city_families(city, now).await?.into_iter().enumerate() {
            match families.get_mut(k) {
                Some(all) => all.samples.extend(f.samples),
                None => families.push(f),
            }
        }
    }
    let local = hazewarn_scheduler::beijing(s.province.now());
    let mut owed = Family {
        name: "hazewarn_advisory_answers_owed",
        help: "Cities yet to answer an advisory in force, by whether the deadline has passed.",
        samples: vec![],
    };
    let (mut awaiting, mut overdue) = (0.0, 0.0);
    for a in s.province.in_force().await? {
        let answers = s.province.store.answers(&a.id).await?;
        let asking = a.asking();
        for c in &asking.terms.cities {
            if !answers.iter().any(|x| &x.city == c && x.step == asking.step) {
                if local > asking.terms.deadline { overdue += 1.0 } else { awaiting += 1.0 }
            }
        }
    }
    owed.samples.push((vec![("status", "awaiting".to_owned())], awaiting));
    owed.samples.push((vec![("status", "overdue".to_owned())], overdue));
    families.push(owed);
    Ok(text(&families))
}

async fn city_families(c: &hazewarn_scheduler::City, now: DateTime<Utc>) -> Result<Vec<Family>, ApiError> {
    let city = c.config.city.id.clone();
    let r = c.health.readiness(&c.config.schedule, now);
    let (pending, sent, dead) = c.store.outbox_counts().await?;
    let of = |job: &str| vec![("city", city.clone()), ("job", job.to_owned())];
    let mut last_run = Family {
        name: "hazewarn_job_last_run_timestamp_seconds",
        help: "When the job last finished (Unix seconds).",
        samples: vec![],
    };
    let mut last_ok = Family {
        name: "hazewarn_job_last_ok",
        help: "Whether the job's last run succeeded (1) or failed (0).",
        samples: vec![],
    };
    let mut lag = Family {
        name: "hazewarn_job_lag_seconds",
        help: "How long past its next due time the job is (0 while it is not late).",
        samples: vec![],
    };
    let now_s = now.timestamp_millis() as f64 / 1000.0;
    for j in &r.jobs {
        if let Some(t) = seconds(&j.last_run) {
            last_run.samples.push((of(&j.job), t));
        }
        if let Some(ok) = j.last_ok {
            last_ok.samples.push((of(&j.job), f64::from(u8::from(ok))));
        }
        let late = seconds(&j.due).map_or(0.0, |due| (now_s - due).max(0.0));
        lag.samples.push((of(&j.job), late));
    }
    // The last success, not the last run: a failed forecast must not hide when one last worked.
    let last_cycle = c.health.last_success("forecast").map(|t| t.timestamp_millis() as f64 / 1000.0);
    Ok(vec![
        last_run,
        last_ok,
        lag,
        Family {
            name: "hazewarn_outbox_messages",
            help: "Outbox messages by status: pending is the depth, dead the dead letters.",
            samples: [("pending", pending), ("sent", sent), ("dead", dead)]
                .into_iter()
                .map(|(status, n)| (vec![("city", city.clone()), ("status", status.to_owned())], n as f64))
                .collect(),
        },
        Family {
            name: "hazewarn_last_successful_cycle_timestamp_seconds",
            help: "When the city's forecast cycle last succeeded (Unix seconds), through later failures; absent before the first.",
            samples: last_cycle.map(|t| vec![(vec![("city", city.clone())], t)]).unwrap_or_default(),
        },
        Family {
            name: "hazewarn_ready",
            help: "1 when the scheduler runs and no job is overdue (as /readyz).",
            samples: vec![(vec![("city", city.clone())], f64::from(u8::from(r.ready)))],
        },
    ])
}
