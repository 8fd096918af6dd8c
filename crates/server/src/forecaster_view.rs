//! The forecaster's page, its tables: the daily level product, the cycle's inputs and their QC
//! per station, how the forecasts before the run verified by lead, and the review form (approve,
//! adjust D+1..D+3, annotate). Each is a template under `templates/forecaster/` filled with
//! display-ready rows; the page (`forecaster_page`) places them.

use askama::Template;
use hazewarn_scheduler::cycle::{InputStatus, StationQc};

use crate::api::ForecastView;
use crate::pages::{Lang, local_time};

/// Each input of the cycle: name, whether it was usable, what it held.
#[derive(Template)]
#[template(path = "forecaster/inputs.html")]
pub(crate) struct InputsTable<'a> {
    l: &'a Lang,
    rows: Vec<InputRow<'a>>,
}

struct InputRow<'a> {
    name: &'a str,
    mark: &'static str,
    detail: &'a str,
}

impl<'a> InputsTable<'a> {
    pub(crate) fn new(l: &'a Lang, inputs: &'a [InputStatus]) -> InputsTable<'a> {
        let rows = inputs
            .iter()
            .map(|i| InputRow {
                name: input_name(l, &i.name),
                mark: if i.ok { "✓" } else { "✗" },
                detail: if l.en() || i.detail_zh.is_empty() { i.detail.as_str() } else { i.detail_zh.as_str() },
            })
            .collect();
        InputsTable { l, rows }
    }
}

/// The forecasts issued in the 30 days before the run, verified, by lead band: RMSE and, for
/// hours above 150 µg/m³ (heavy pollution), hits, misses and false alarms. The window is the
/// run's, not the wall clock's: a forecaster reviewing a run sees how the forecasts before it did.
#[derive(Template)]
#[template(path = "forecaster/verification.html")]
pub(crate) struct VerificationTable<'a> {
    l: &'a Lang,
    rows: Vec<LeadBandRow>,
}

struct LeadBandRow {
    /// `1–24 h`.
    band: String,
    n: usize,
    /// A dash while no hour of the band is verified, not NaN.
    rmse: String,
    hits: usize,
    misses: usize,
    false_alarms: usize,
}

impl<'a> VerificationTable<'a> {
    pub(crate) fn new(l: &'a Lang, scores: &[hazewarn_store::forecasts::Score]) -> VerificationTable<'a> {
        let rows = [(1, 24), (25, 48), (49, 72), (73, 96)]
            .into_iter()
            .map(|(a, z)| {
                let sel: Vec<_> = scores.iter().filter(|x| (a..=z).contains(&x.lead_hours)).collect();
                let n = sel.len();
                let rmse = if n == 0 {
                    "—".to_owned()
                } else {
                    let mse = sel.iter().map(|x| (x.p50 - x.observed).powi(2)).sum::<f64>() / n as f64;
                    format!("{:.1}", mse.sqrt())
                };
                // An event: hourly PM2.5 above 150 µg/m³ (heavy pollution).
                let count = |forecast: bool, observed: bool| {
                    sel.iter().filter(|x| (x.p50 > 150.0) == forecast && (x.observed > 150.0) == observed).count()
                };
                LeadBandRow {
                    band: format!("{a}–{z} h"),
                    n,
                    rmse,
                    hits: count(true, true),
                    misses: count(false, true),
                    false_alarms: count(true, false),
                }
            })
            .collect();
        VerificationTable { l, rows }
    }
}

/// The daily level product of D+1..D+3: the AQI range, the probability of each AQI level and the
/// level published, with the primary pollutant.
#[derive(Template)]
#[template(path = "forecaster/levels.html")]
pub(crate) struct LevelTable<'a> {
    l: &'a Lang,
    /// The AQI levels' names, one column each.
    categories: Vec<&'static str>,
    rows: Vec<LevelRow>,
}

struct LevelRow {
    /// `D+1 01-05`.
    day: String,
    /// `120–180 (150)`: p10–p90 (p50).
    range: String,
    published: &'static str,
    probabilities: Vec<ProbabilityCell>,
    primary: String,
}

struct ProbabilityCell {
    percent: String,
    /// The published level's cell is shaded.
    published: bool,
}

impl<'a> LevelTable<'a> {
    /// A run stored before the product was kept has none, and the section is left out.
    pub(crate) fn new(l: &'a Lang, days: &[hazewarn_forecast::DailyLevel]) -> Option<LevelTable<'a>> {
        let first = days.first()?;
        let levels = hazewarn_aqi::Standards::builtin().for_date(first.date).levels();
        let category = |k: usize| {
            levels.get(k).map_or("", |lv| if l.en() { lv.category_en.as_str() } else { lv.category.as_str() })
        };
        let rows = days
            .iter()
            .map(|d| LevelRow {
                day: format!("D+{} {}", d.lead_day, d.date.format("%m-%d")),
                range: format!("{}–{} ({})", d.aqi_p10, d.aqi_p90, d.aqi_p50),
                published: category(usize::from(d.level.max(1)) - 1),
                probabilities: d
                    .probabilities
                    .iter()
                    .enumerate()
                    .map(|(k, p)| ProbabilityCell {
                        percent: format!("{:.0} %", 100.0 * p),
                        published: k + 1 == usize::from(d.level),
                    })
                    .collect(),
                primary: d.primary.clone().unwrap_or_else(|| "—".to_owned()),
            })
            .collect();
        Some(LevelTable { l, categories: (0..hazewarn_forecast::LEVELS).map(category).collect(), rows })
    }
}

/// The run's reviews so far and the form for the next.
#[derive(Template)]
#[template(path = "forecaster/review.html")]
pub(crate) struct ReviewSection<'a> {
    l: &'a Lang,
    reviews: Vec<ReviewLine<'a>>,
    run: &'a str,
    /// D+1..D+3: the field's number and the AQI it starts with.
    days: Vec<(usize, u32)>,
}

struct ReviewLine<'a> {
    at: String,
    by: &'a str,
    action: &'a str,
    note: &'a str,
}

impl<'a> ReviewSection<'a> {
    pub(crate) fn new(l: &'a Lang, v: &'a ForecastView) -> ReviewSection<'a> {
        let reviews = v
            .reviews
            .iter()
            .map(|r| ReviewLine { at: local_time(&r.at), by: &r.by, action: run_status(l, &r.action), note: &r.note })
            .collect();
        let days = v.daily.iter().take(3).map(|d| (d.lead_day, d.aqi_p50)).collect();
        ReviewSection { l, reviews, run: &v.id, days }
    }
}

/// The latest ingest's QC per station, from what the cycle stored with the batch.
#[derive(Template)]
#[template(path = "forecaster/qc.html")]
pub(crate) struct QcTable<'a> {
    l: &'a Lang,
    /// None for a batch stored before the QC was kept per station.
    stations: Option<Vec<QcRow>>,
}

struct QcRow {
    station: String,
    period: String,
    hours: usize,
    source_rows: usize,
    duplicate_hours: usize,
    gaps: usize,
    /// Per variable, what was flagged and how often.
    flags: String,
}

impl<'a> QcTable<'a> {
    pub(crate) fn new(l: &'a Lang, stored: &str) -> QcTable<'a> {
        let stations = serde_json::from_str::<Vec<StationQc>>(stored).ok().map(|stations| {
            stations
                .into_iter()
                .map(|st| QcRow {
                    period: format!("{} – {}", st.start.format("%Y-%m-%d %H:00"), st.end.format("%Y-%m-%d %H:00")),
                    hours: st.hours,
                    source_rows: st.source_rows,
                    duplicate_hours: st.duplicate_hours,
                    gaps: st.gaps,
                    flags: qc_flags(l, &st.columns),
                    station: st.station,
                })
                .collect()
        });
        QcTable { l, stations }
    }
}

/// `PM2.5：缺测 3，离群 1；…`: each variable with a flag, the flags with their counts.
fn qc_flags(l: &Lang, columns: &[hazewarn_ingest::FlagCounts]) -> String {
    let flagged: Vec<String> = columns
        .iter()
        .filter_map(|c| {
            let parts: Vec<String> = [
                (c.missing, "pages.qc-missing"),
                (c.gap, "pages.qc-gap"),
                (c.duplicate, "pages.qc-duplicate"),
                (c.out_of_range, "pages.qc-out-of-range"),
                (c.spike, "pages.qc-spike"),
                (c.flatline, "pages.qc-flatline"),
            ]
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, key)| format!("{} {n}", l.m(key)))
            .collect();
            (!parts.is_empty()).then(|| {
                format!("{}{}{}", variable_name(l, &c.column), l.m("pages.colon"), parts.join(l.m("pages.list-comma")))
            })
        })
        .collect();
    flagged.join(l.m("pages.list-semicolon"))
}

/// A forecast run's status, or a review's action, in the page's language.
pub(crate) fn run_status<'a>(l: &Lang, status: &'a str) -> &'a str {
    match status {
        "issued" => l.m("pages.awaiting-review"),
        "approved" => l.m("pages.approved"),
        "adjusted" => l.m("pages.adjusted"),
        "approve" => l.m("pages.approve"),
        "adjust" => l.m("pages.adjust"),
        "annotate" => l.m("pages.annotate"),
        other => other,
    }
}

/// An input of the cycle by its name; a source keeps the name the city config gives it.
fn input_name<'a>(l: &Lang, name: &'a str) -> &'a str {
    match name {
        "observations" => l.m("pages.input-observations"),
        "city series" => l.m("pages.input-city-series"),
        "meteorology" => l.m("pages.input-meteorology"),
        "recent verification" => l.m("pages.input-recent-verification"),
        "nwp" => l.m("pages.input-nwp"),
        "curtailments" => l.m("pages.input-curtailments"),
        "met-forecast-file" => l.m("pages.input-met-forecast-file"),
        "unknown stations" => l.m("pages.input-unknown-stations"),
        other => other,
    }
}

/// An observed variable as people write it.
fn variable_name<'a>(l: &Lang, column: &'a str) -> &'a str {
    match column {
        "pm25" => "PM2.5",
        "pm10" => "PM10",
        "so2" => "SO₂",
        "no2" => "NO₂",
        "co" => "CO",
        "o3" => "O₃",
        "temp" => l.m("pages.var-temp"),
        "dewp" => l.m("pages.var-dewp"),
        "rh" => l.m("pages.var-rh"),
        "pres" => l.m("pages.var-pres"),
        "wspd" => l.m("pages.var-wspd"),
        "wdir" => l.m("pages.var-wdir"),
        "precip" => l.m("pages.var-precip"),
        other => other,
    }
}
