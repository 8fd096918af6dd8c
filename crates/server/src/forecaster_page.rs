//! The forecaster's page (`/forecaster`): the run to review with its status, the hourly PM2.5
//! and daily AQI charts, the daily level product, the stations, a failed cycle, the inputs and
//! their QC, the verification before the run, and the review form whose post
//! (`/forecaster/review`) approves, adjusts or annotates the run. The tables are
//! `forecaster_view`'s; the page is `templates/forecaster/page.html`.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use hazewarn_store::users::Role;
use serde::Deserialize;

use crate::api::{self, forecast_view};
use crate::auth::{Authorized, Caller};
use crate::forecaster_view::{InputsTable, LevelTable, QcTable, ReviewSection, VerificationTable, run_status};
use crate::pages::{Lang, after_post, city_frame, login_needed, refusal};
use crate::templates::{Frame, render_signed_in};
use crate::{ApiError, AppState, svg};

#[derive(Template)]
#[template(path = "forecaster/page.html")]
struct ForecasterPage<'a> {
    frame: Frame<'a>,
    l: &'a Lang,
    run: RunLine<'a>,
    /// Hours since the run was issued, when it is more than a day old (the cycles stopped).
    old_run_hours: Option<i64>,
    hourly_title: &'static str,
    /// The chart element (ECharts, with the server's SVG where scripts do not run).
    hourly_chart: String,
    /// The hourly chart follows the forecaster's adjustment of the daily AQI.
    hourly_adjusted: bool,
    daily_title: &'static str,
    daily_chart: String,
    levels: Option<LevelTable<'a>>,
    /// `stations_view`'s section.
    stations: String,
    cycle_failure: Option<CycleFailure>,
    inputs: InputsTable<'a>,
    qc: Option<QcTable<'a>>,
    verification: VerificationTable<'a>,
    review: ReviewSection<'a>,
}

/// The run shown: its id, issue time (Beijing), model and status in the page's language.
struct RunLine<'a> {
    id: &'a str,
    issued: String,
    model: &'a str,
    status: &'a str,
}

/// The latest forecast job, when it failed: its slot and why.
struct CycleFailure {
    slot: String,
    detail: String,
}

pub(crate) async fn forecaster(
    State(s): State<AppState>,
    Query(l): Query<Lang>,
    caller: Result<Caller, ApiError>,
) -> Response {
    let result: Result<Response, ApiError> = async {
        let caller = caller?;
        caller.require(&[Role::Forecaster, Role::Office])?;
        let v = forecast_view(&s, None).await?;
        let issue = hazewarn_store::parse_ts(&v.issue_time)?;
        let issue_local = hazewarn_scheduler::beijing(issue).naive_local();
        // The series the cycle forecasts (the city series with stations configured).
        let parquet = s.city.config.data.work_dir.join("city.parquet");
        let city_series = hazewarn_ingest::read_station(&parquet, Some(hazewarn_ingest::Layout::Parquet), None).ok();
        let observed = last_week(city_series.as_ref(), issue_local);
        // The run shown may be days old when the cycles stopped: the page says so.
        let age = s.city.now() - issue;
        let raw_daily = match s.city.store.forecast_run(&v.id).await? {
            Some(run) => serde_json::from_str(&run.daily).unwrap_or_default(),
            None => Vec::new(),
        };
        let (leads, hourly_adjusted) = follow_adjustments(&v.hourly, &raw_daily, &v.daily);
        let hourly_title = l.m("pages.hourly-pm2-5-96-h");
        let daily_title = l.m("pages.daily-aqi-d-1-d");
        let stations = crate::stations_view::section(
            &l,
            &s.city.config.stations,
            &s.city.config.data.work_dir,
            city_series.as_ref(),
            issue_local,
        )?;
        let cycle_failure = latest_cycle_failure(&s, &l).await?;
        let batch = s.city.store.observation_batches(1).await?.into_iter().next();
        // The 30 days of verification before this run's issue time (not the wall clock's: a
        // forecaster reviewing a run sees how the forecasts before it verified).
        let scores = s.city.store.scores_between(issue - Duration::days(30), issue).await?;
        let mut page = ForecasterPage {
            frame: city_frame(&s, &l, l.m("pages.forecaster-today-s-forecast"), true),
            l: &l,
            run: RunLine {
                id: &v.id,
                issued: hazewarn_scheduler::beijing(issue).format("%Y-%m-%d %H:%M").to_string(),
                model: &v.model,
                status: run_status(&l, &v.status),
            },
            old_run_hours: (age > Duration::hours(26)).then(|| age.num_hours()),
            hourly_title,
            hourly_chart: hourly_chart(&l, hourly_title, issue_local, &observed, &leads),
            hourly_adjusted,
            daily_title,
            daily_chart: daily_chart(daily_title, &v.daily),
            levels: LevelTable::new(&l, &v.levels),
            stations,
            cycle_failure,
            inputs: InputsTable::new(&l, &v.inputs),
            qc: batch.as_ref().map(|b| QcTable::new(&l, &b.qc_summary)),
            verification: VerificationTable::new(&l, &scores),
            review: ReviewSection::new(&l, &v),
        };
        page.frame.signed_in = true;
        Ok(render_signed_in(&page, &caller.csrf))
    }
    .await;
    result.map_or_else(|e| login_needed(&l, e), IntoResponse::into_response)
}

/// The last 7 days of observed PM2.5 before the issue hour, by hour relative to it, from the
/// canonical Parquet the last ingest wrote.
fn last_week(series: Option<&hazewarn_ingest::StationSeries>, issue: chrono::NaiveDateTime) -> Vec<(i64, f64)> {
    let Some(series) = series else { return Vec::new() };
    let Some(pm) = series.usable(hazewarn_ingest::Variable::Pm25) else { return Vec::new() };
    series
        .times
        .iter()
        .zip(pm)
        .map(|(t, v)| ((*t - issue).num_hours(), v))
        .filter(|(rel, _)| (-168..=0).contains(rel))
        .collect()
}

/// The latest forecast job, when it failed: what failed and when, above everything else.
async fn latest_cycle_failure(s: &AppState, l: &Lang) -> Result<Option<CycleFailure>, ApiError> {
    let runs = s.city.store.job_runs(50).await?;
    Ok(runs
        .into_iter()
        .find(|r| r.job == "forecast")
        .filter(|last| last.status == "failed")
        .map(|last| CycleFailure { detail: refusal(l, &last.detail), slot: last.slot }))
}

/// The hourly chart: the observed hours (relative to the issue hour) and the run's leads on one
/// Beijing-time axis; the server's SVG where scripts do not run.
fn hourly_chart(
    l: &Lang,
    title: &str,
    issue: chrono::NaiveDateTime,
    observed: &[(i64, f64)],
    leads: &[hazewarn_forecast::LeadForecast],
) -> String {
    let first = observed.iter().map(|o| o.0).min().unwrap_or(0).min(0);
    let last = leads.iter().map(|h| h.lead as i64).max().unwrap_or(0);
    let obs: std::collections::HashMap<i64, f64> = observed.iter().copied().collect();
    let fc: std::collections::HashMap<i64, &hazewarn_forecast::LeadForecast> =
        leads.iter().map(|h| (h.lead as i64, h)).collect();
    let hours: Vec<_> = (first..=last)
        .map(|rel| {
            let f = fc.get(&rel);
            crate::charts::HourPoint {
                at: Some(issue + Duration::hours(rel)),
                observed: obs.get(&rel).copied(),
                p10: f.map(|f| f.p10),
                p50: f.map(|f| f.p50),
                p90: f.map(|f| f.p90),
            }
        })
        .collect();
    let labels = crate::charts::HourlyLabels {
        observed: l.m("pages.observed"),
        p50: l.m("pages.forecast-p50"),
        band: l.m("pages.p10-p90-band"),
        issued: l.m("pages.issued"),
        edges: if l.en() {
            ["Light", "Moderate", "Heavy", "Severe"]
        } else {
            ["轻度污染", "中度污染", "重度污染", "严重污染"]
        },
        title,
    };
    let option = crate::charts::hourly(&hours, issue, &labels);
    let fallback: Vec<(i64, f64, f64, f64)> = leads.iter().map(|h| (h.lead as i64, h.p10, h.p50, h.p90)).collect();
    crate::charts::element("hourly-chart", title, &option, &svg::hourly_chart(observed, &fallback, "PM2.5"))
}

/// The daily chart: AQI p50 per day in its level's colour, with its p10–p90 range.
fn daily_chart(title: &str, days: &[hazewarn_scheduler::cycle::DailyRow]) -> String {
    let standards = hazewarn_aqi::Standards::builtin();
    let bars: Vec<crate::charts::DailyBar> = days
        .iter()
        .map(|d| crate::charts::DailyBar {
            label: d.date.format("%m-%d").to_string(),
            aqi: (d.aqi_p10, d.aqi_p50, d.aqi_p90),
            colour: standards.for_date(d.date).level(d.aqi_p50).rgb.clone(),
            trend: d.trend,
        })
        .collect();
    let svg_bars: Vec<(String, u32, String, bool)> =
        bars.iter().map(|b| (b.label.clone(), b.aqi.1, b.colour.clone(), b.trend)).collect();
    let option = crate::charts::daily(&bars, title, "AQI p50");
    crate::charts::element("daily-chart", title, &option, &svg::daily_bars(&svg_bars, "AQI"))
}

#[derive(Deserialize)]
pub(crate) struct ReviewForm {
    run: String,
    action: api::ActionName,
    #[serde(default)]
    note: String,
    #[serde(default)]
    aqi1: String,
    #[serde(default)]
    aqi2: String,
    #[serde(default)]
    aqi3: String,
}

/// The review form's post: the action on the run, an adjustment moving D+1..D+3 to the AQI typed.
pub(crate) async fn forecaster_review(
    State(s): State<AppState>,
    Query(l): Query<Lang>,
    caller: Result<Caller, ApiError>,
    Form(f): Form<ReviewForm>,
) -> Response {
    let result: Result<(), ApiError> = async {
        let auth = Authorized::from_caller(caller?)?;
        let mut daily = None;
        if f.action == api::ActionName::Adjust {
            let run = s.city.store.forecast_run(&f.run).await?.ok_or(ApiError::NotFound)?;
            let mut rows = s.city.daily_of(&run).await?;
            for (k, (field, text)) in [("aqi1", &f.aqi1), ("aqi2", &f.aqi2), ("aqi3", &f.aqi3)].into_iter().enumerate()
            {
                if let (Some(v), Some(row)) = (adjusted_aqi(field, text)?, rows.get_mut(k)) {
                    adjust_day(row, v);
                }
            }
            daily = Some(rows);
        }
        let req = api::ReviewRequest { action: f.action, note: f.note.clone(), daily };
        let _review = api::review(State(s.clone()), auth, axum::extract::Path(f.run.clone()), axum::Json(req)).await?;
        Ok(())
    }
    .await;
    let recorded = format!("{} {}", crate::forecaster_view::run_status(&l, f.action.as_str()), l.m("pages.recorded"));
    after_post("/forecaster", &l, result.map(|()| recorded))
}

/// The hourly forecast as the forecaster's adjustment leaves it: each day whose AQI was adjusted
/// has its hours scaled by the ratio of the PM2.5 the adjusted and the issued AQI stand for
/// (HJ 633 read backwards), so the hourly chart agrees with the daily bars. Also whether any day
/// was adjusted.
pub(crate) fn follow_adjustments(
    leads: &[hazewarn_forecast::LeadForecast],
    issued: &[hazewarn_scheduler::cycle::DailyRow],
    shown: &[hazewarn_scheduler::cycle::DailyRow],
) -> (Vec<hazewarn_forecast::LeadForecast>, bool) {
    let pm25 = |date: chrono::NaiveDate, aqi: u32| {
        hazewarn_aqi::Standards::builtin()
            .for_date(date)
            .concentration(hazewarn_aqi::Indicator::Pm25_24h, f64::from(aqi))
    };
    let mut ratios = std::collections::HashMap::new();
    for d in shown {
        let Some(raw) = issued.iter().find(|r| r.date == d.date) else { continue };
        if raw.aqi_p50 == d.aqi_p50 {
            continue;
        }
        if let (Some(a), Some(b)) = (pm25(d.date, d.aqi_p50), pm25(d.date, raw.aqi_p50))
            && b > 0.0
        {
            ratios.insert(d.date, a / b);
        }
    }
    let mut out = leads.to_vec();
    for l in &mut out {
        if let Some(r) = ratios.get(&l.valid.date()) {
            l.p10 *= r;
            l.p50 *= r;
            l.p90 *= r;
        }
    }
    (out, !ratios.is_empty())
}

/// A forecaster's adjusted AQI from the form: blank for none, else a whole number 0–500.
pub(crate) fn adjusted_aqi(field: &str, text: &str) -> Result<Option<u32>, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u32>() {
        Ok(v) if v <= 500 => Ok(Some(v)),
        _ => Err(ApiError::Invalid(format!("`{field}`: `{text}` is not an AQI (a whole number 0–500)"))),
    }
}

/// Moves a day's AQI to `v`, its interval moving with it (same widths, within 0–500).
pub(crate) fn adjust_day(row: &mut hazewarn_scheduler::cycle::DailyRow, v: u32) {
    let (below, above) = (row.aqi_p50.saturating_sub(row.aqi_p10), row.aqi_p90.saturating_sub(row.aqi_p50));
    row.aqi_p50 = v;
    row.aqi_p10 = v.saturating_sub(below);
    row.aqi_p90 = (v + above).min(500);
}
