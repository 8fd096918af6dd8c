//! The forecaster's station view: the city series beside each configured station over the last
//! 7 days, the stations on a map by longitude and latitude coloured by the AQI level of their
//! last 24 hours of PM2.5, and the hours when too few assessment stations reported.
//!
//! It reads the per-station table the last ingest wrote (`observations.parquet`), so it shows
//! what the cycle saw, not a second reading of the sources.

use askama::Template;
use chrono::NaiveDateTime;
use hazewarn_aqi::{Indicator, Standards};
use hazewarn_ingest::{IngestOptions, Layout, Observations, StationSeries, Variable};
use hazewarn_scheduler::config::{StationConfig, StationRole};

use crate::pages::Lang;
use crate::{ApiError, svg};

/// GB 3095: a 24-hour mean needs at least 20 valid hours.
const MIN_HOURS_24H: usize = 20;

/// One station's last 7 days relative to the issue hour, and its last 24-hour mean.
pub(crate) struct StationWindow {
    pub hours: Vec<(i64, f64)>,
    pub mean_24h: Option<f64>,
}

pub(crate) fn window(series: &StationSeries, issue: NaiveDateTime) -> StationWindow {
    let pm = series.usable(Variable::Pm25).unwrap_or_default();
    let hours: Vec<(i64, f64)> = series
        .times
        .iter()
        .zip(pm)
        .map(|(t, v)| ((*t - issue).num_hours(), v))
        .filter(|(rel, _)| (-167..=0).contains(rel))
        .collect();
    let day: Vec<f64> = hours.iter().filter(|(rel, v)| *rel > -24 && v.is_finite()).map(|(_, v)| *v).collect();
    let mean_24h = (day.len() >= MIN_HOURS_24H).then(|| day.iter().sum::<f64>() / day.len() as f64);
    StationWindow { hours, mean_24h }
}

/// Hours (relative to the issue) with at least one but fewer than half of the assessment
/// stations reporting a valid PM2.5: the rule of the city series (`city_mean`), over the stations
/// that sent data, as the cycle averages them.
pub(crate) fn thin_hours(windows: &[&StationWindow]) -> Vec<i64> {
    let need = windows.len() as f64 * 0.5;
    (-167..=0)
        .filter(|rel| {
            let n = windows.iter().filter(|w| w.hours.iter().any(|(r, v)| r == rel && v.is_finite())).count();
            n > 0 && (n as f64) < need
        })
        .collect()
}

fn read_stations(path: &std::path::Path) -> Result<Observations, String> {
    let options = IngestOptions { layout: Some(Layout::Parquet), ..Default::default() };
    hazewarn_ingest::ingest(&[path], &options).map(|(obs, _)| obs).map_err(|e| e.to_string())
}

/// The station section of the forecaster's page.
#[derive(Template)]
#[template(path = "stations/section.html")]
struct StationsSection<'a> {
    l: &'a Lang,
    /// Why the station table could not be read, when it could not.
    unread: Option<String>,
    /// The chart of each station's PM2.5 (its own element, with the SVG where scripts do not run).
    chart: String,
    /// The stations on the map, as SVG.
    map: String,
    rows: Vec<StationRow>,
    /// `：` or `:`, before the number of thin hours.
    colon: &'static str,
    thin: usize,
    /// The first thin hours, ` (01-02 16:00, …)`, or nothing.
    thin_hours: String,
}

/// A station's row: what it is and its last 24 hours.
struct StationRow {
    code: String,
    name: String,
    county: String,
    role: &'static str,
    /// The 24-hour mean, its IAQI and category, or that there were too few hours.
    last_24h: String,
    valid: usize,
}

/// The table row of a station and its point on the map.
fn station_row(
    l: &Lang,
    st: &StationConfig,
    w: Option<&StationWindow>,
    issue: NaiveDateTime,
) -> (StationRow, svg::MapPoint) {
    let standard = Standards::builtin().for_date(issue.date());
    let role = match st.role {
        StationRole::Assessment => l.m("stations.assessment"),
        StationRole::Reference => l.m("stations.reference"),
    };
    let level = w.and_then(|w| w.mean_24h).and_then(|c| {
        let iaqi = standard.iaqi(Indicator::Pm25_24h, c).ok().flatten()?;
        Some((c, iaqi, standard.level(iaqi)))
    });
    let (last_24h, colour) = match &level {
        Some((c, iaqi, lv)) => (
            format!("{c:.0} µg/m³ · IAQI {iaqi} · {}", if l.en() { &lv.category_en } else { &lv.category }),
            lv.rgb.clone(),
        ),
        None => (l.m("stations.fewer-than-20-valid-hours").to_owned(), "#bbbbbb".to_owned()),
    };
    let valid = w.map_or(0, |w| w.hours.iter().filter(|(_, v)| v.is_finite()).count());
    let row =
        StationRow { code: st.code.clone(), name: st.name.clone(), county: st.county.clone(), role, last_24h, valid };
    let point = svg::MapPoint {
        label: st.code.clone(),
        longitude: st.longitude,
        latitude: st.latitude,
        colour,
        hollow: st.role == StationRole::Reference,
    };
    (row, point)
}

/// The section, or nothing when the city configures no stations.
pub(crate) fn section(
    l: &Lang,
    stations: &[StationConfig],
    work_dir: &std::path::Path,
    city: Option<&StationSeries>,
    issue: NaiveDateTime,
) -> Result<String, ApiError> {
    if stations.is_empty() {
        return Ok(String::new());
    }
    // Said, not hidden: without the table every station would look silent.
    let (obs, unread) = match read_stations(&work_dir.join("observations.parquet")) {
        Ok(obs) => (obs, None),
        Err(e) => (Observations::default(), Some(e)),
    };
    let windows: Vec<Option<StationWindow>> =
        stations.iter().map(|st| obs.station(&st.code).map(|s| window(s, issue))).collect();
    let mut lines: Vec<(String, Vec<(i64, f64)>)> = Vec::new();
    if let Some(c) = city {
        lines.push((l.m("stations.city-mean").to_owned(), window(c, issue).hours));
    }
    let (mut rows, mut points, mut assessment) = (Vec::new(), Vec::new(), Vec::new());
    for (st, w) in stations.iter().zip(&windows) {
        let (row, point) = station_row(l, st, w.as_ref(), issue);
        rows.push(row);
        points.push(point);
        if let Some(w) = w {
            lines.push((st.code.clone(), w.hours.clone()));
            if st.role == StationRole::Assessment {
                assessment.push(w);
            }
        }
    }
    let title = l.m("stations.pm2-5-at-each-station");
    let option = crate::charts::stations(&lines, issue, title);
    let thin = thin_hours(&assessment);
    let hours: Vec<String> = thin
        .iter()
        .take(48)
        .map(|rel| (issue + chrono::Duration::hours(*rel)).format("%m-%d %H:00").to_string())
        .collect();
    let page = StationsSection {
        l,
        unread,
        chart: crate::charts::element("stations-chart", title, &option, &svg::station_lines(&lines, title)),
        map: svg::station_map(&points, l.m("stations.stations-colour-level-of-the")),
        rows,
        colon: l.m("pages.colon"),
        thin: thin.len(),
        thin_hours: if hours.is_empty() { String::new() } else { format!(" ({})", hours.join(", ")) },
    };
    crate::templates::fragment(&page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use hazewarn_ingest::{Column, QcFlags};

    fn series(values: &[f64], end: NaiveDateTime) -> StationSeries {
        let n = values.len() as i64;
        let times = (0..n).map(|k| end - chrono::Duration::hours(n - 1 - k)).collect();
        let flags = values.iter().map(|v| if v.is_nan() { QcFlags::MISSING } else { QcFlags::default() }).collect();
        StationSeries {
            station: "S".into(),
            times,
            columns: vec![Column { variable: Variable::Pm25, values: values.to_vec(), flags }],
        }
    }

    #[test]
    fn the_24_hour_mean_needs_twenty_valid_hours() {
        let issue = NaiveDate::from_ymd_opt(2026, 1, 2).unwrap().and_hms_opt(16, 0, 0).unwrap();
        // 24 hours: 19 valid at 100 and 5 missing → no mean; one more valid hour → a mean.
        let mut v = vec![100.0; 19];
        v.extend([f64::NAN; 5]);
        assert_eq!(window(&series(&v, issue), issue).mean_24h, None);
        v[19] = 40.0;
        let w = window(&series(&v, issue), issue);
        assert_eq!(w.mean_24h, Some((19.0 * 100.0 + 40.0) / 20.0));
        // Hours older than 7 days are not in the window.
        let long = vec![50.0; 200];
        assert_eq!(window(&series(&long, issue), issue).hours.len(), 168);
    }

    #[test]
    fn an_hour_is_thin_when_fewer_than_half_report() {
        let issue = NaiveDate::from_ymd_opt(2026, 1, 2).unwrap().and_hms_opt(16, 0, 0).unwrap();
        let full = window(&series(&[10.0; 168], issue), issue);
        let mut gappy = vec![10.0; 168];
        gappy[167] = f64::NAN; // the issue hour itself
        let gappy = window(&series(&gappy, issue), issue);
        let dark = window(&series(&[f64::NAN; 168], issue), issue);
        // Two of three report at the issue hour (not thin); one of three does (thin).
        assert!(thin_hours(&[&full, &gappy, &full]).is_empty());
        assert_eq!(thin_hours(&[&gappy, &dark, &full]), [0]);
        assert_eq!(thin_hours(&[&dark, &dark, &full]).len(), 168);
        // Two of four is half, not fewer; an hour no station reported is missing, not thin.
        assert!(thin_hours(&[&full, &full, &dark, &dark]).is_empty());
        assert!(thin_hours(&[&gappy, &dark, &dark]).len() == 167, "the issue hour has no station at all");
    }
}
