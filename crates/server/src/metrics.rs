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

pub(crate) async fn metrics(State(s): State<AppState>) -> Result<Response, ApiError> {
    let now = Utc::now();
    let city = s.city.config.city.id.clone();
    let r = s.city.health.readiness(&s.city.config.schedule, now);
    let (pending, sent, dead) = s.city.store.outbox_counts().await?;
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
    let last_cycle = s.city.health.last_success("forecast").map(|t| t.timestamp_millis() as f64 / 1000.0);
    let families = [
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
    ];
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], render(&families)).into_response())
}
