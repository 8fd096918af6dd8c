//! The city series (HJ 663-2013): for each hour, each pollutant's city concentration is the
//! arithmetic mean of the valid values of the city's assessment stations (城市点). Reference
//! points (对照点) are never passed in, so they never enter it. A value QC marks unusable does not
//! count; each hour records how many stations contributed, and an hour with fewer than the
//! configured share of the stations is counted as thin. Meteorology, where the stations carry
//! it, is averaged too, the wind as u/v vectors turned back into speed and direction.
//!
//! The per-station series stay as they are; the city series is derived from them.

use chrono::{Duration, NaiveDateTime};

use crate::IngestError;
use crate::table::{Column, Observations, QcFlags, StationSeries, Variable};

/// Which stations make the city, and how many must report for an hour to count as full.
#[derive(Debug, Clone)]
pub struct CityMeanOptions {
    /// The city series' station name (the city id, or `city`).
    pub name: String,
    /// The assessment stations; `None` takes every station in the observations.
    pub stations: Option<Vec<String>>,
    /// The least share of the stations whose PM2.5 must be valid for an hour to count as full.
    pub min_share: f64,
}

impl Default for CityMeanOptions {
    fn default() -> CityMeanOptions {
        CityMeanOptions { name: "city".into(), stations: None, min_share: 0.5 }
    }
}

/// The city series and how it was made.
#[derive(Debug, Clone)]
pub struct CitySeries {
    pub series: StationSeries,
    /// The stations averaged, in the order given.
    pub stations: Vec<String>,
    /// Stations in the observations that were not averaged (not assessment stations).
    pub ignored: Vec<String>,
    /// For each hour, how many stations had a valid PM2.5.
    pub contributing: Vec<u16>,
    /// Hours with fewer than `min_share` of the stations reporting PM2.5 (but at least one);
    /// their pollutant cells carry [`QcFlags::THIN`].
    pub thin_hours: usize,
}

/// The hourly grid every selected station falls on: from the earliest start to the latest end.
fn grid(series: &[&StationSeries]) -> Vec<NaiveDateTime> {
    let start = series.iter().filter_map(|s| s.times.first()).min().copied();
    let end = series.iter().filter_map(|s| s.times.last()).max().copied();
    let (Some(start), Some(end)) = (start, end) else { return Vec::new() };
    let hours = (end - start).num_hours();
    (0..=hours).map(|k| start + Duration::hours(k)).collect()
}

/// A station's usable values of `variable` laid on the city grid (NaN where it has none).
fn on_grid(s: &StationSeries, variable: Variable, times: &[NaiveDateTime]) -> Vec<f64> {
    let mut out = vec![f64::NAN; times.len()];
    let (Some(values), Some(first), Some(start)) = (s.usable(variable), s.times.first(), times.first()) else {
        return out;
    };
    let offset = (*first - *start).num_hours() as usize;
    for (k, v) in values.into_iter().enumerate() {
        out[offset + k] = v;
    }
    out
}

/// The mean of the finite values, and how many there were.
fn mean(values: impl Iterator<Item = f64>) -> (f64, u16) {
    let (sum, n) = values.filter(|v| v.is_finite()).fold((0.0, 0u16), |(s, n), v| (s + v, n + 1));
    (if n == 0 { f64::NAN } else { sum / f64::from(n) }, n)
}

fn column(variable: Variable, values: Vec<f64>) -> Column {
    let flags = values.iter().map(|v| if v.is_finite() { QcFlags::default() } else { QcFlags::MISSING }).collect();
    Column { variable, values, flags }
}

/// The vector-mean wind: each station's (speed, from-direction) as u/v, averaged over the
/// stations with both, and turned back into speed and direction.
fn mean_wind(stations: &[&StationSeries], times: &[NaiveDateTime]) -> (Vec<f64>, Vec<f64>) {
    let speeds: Vec<Vec<f64>> = stations.iter().map(|s| on_grid(s, Variable::Wspd, times)).collect();
    let dirs: Vec<Vec<f64>> = stations.iter().map(|s| on_grid(s, Variable::Wdir, times)).collect();
    let mut speed = vec![f64::NAN; times.len()];
    let mut dir = vec![f64::NAN; times.len()];
    for k in 0..times.len() {
        let uv = speeds.iter().zip(&dirs).map(|(s, d)| (s[k], d[k].to_radians()));
        let (u, n) = mean(uv.clone().map(|(s, d)| -s * d.sin()));
        let (v, _) = mean(uv.map(|(s, d)| -s * d.cos()));
        if n > 0 {
            speed[k] = u.hypot(v);
            dir[k] = ((-u).atan2(-v).to_degrees() + 360.0) % 360.0;
        }
    }
    (speed, dir)
}

/// The city series of `obs` by `options`. An assessment station missing from the observations
/// is an error naming the stations there are.
pub fn city_mean(obs: &Observations, options: &CityMeanOptions) -> Result<CitySeries, IngestError> {
    let mut names: Vec<String> = Vec::new();
    let given = options.stations.clone().unwrap_or_else(|| obs.series.iter().map(|s| s.station.clone()).collect());
    for name in given {
        // A station named twice is still one station.
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let mut chosen = Vec::new();
    for name in &names {
        let s = obs.station(name).ok_or_else(|| IngestError::UnknownStation {
            file: "the observations".into(),
            station: name.clone(),
            available: obs.series.iter().map(|s| s.station.clone()).collect(),
        })?;
        chosen.push(s);
    }
    let ignored = obs.series.iter().map(|s| s.station.clone()).filter(|s| !names.contains(s)).collect();
    let times = grid(&chosen);
    let mut columns = Vec::new();
    let mut contributing = vec![0u16; times.len()];
    for variable in Variable::ALL {
        if matches!(variable, Variable::Wspd | Variable::Wdir) || !chosen.iter().any(|s| s.column(variable).is_some()) {
            continue;
        }
        let per_station: Vec<Vec<f64>> = chosen.iter().map(|s| on_grid(s, variable, &times)).collect();
        let mut values = Vec::with_capacity(times.len());
        for k in 0..times.len() {
            let (m, n) = mean(per_station.iter().map(|v| v[k]));
            values.push(m);
            if variable == Variable::Pm25 {
                contributing[k] = n;
            }
        }
        columns.push(column(variable, values));
    }
    if chosen.iter().any(|s| s.column(Variable::Wspd).is_some()) {
        let (speed, dir) = mean_wind(&chosen, &times);
        columns.push(column(Variable::Wspd, speed));
        columns.push(column(Variable::Wdir, dir));
        columns.sort_by_key(|c| c.variable);
    }
    let need = options.min_share * chosen.len() as f64;
    let thin: Vec<bool> = contributing.iter().map(|n| *n > 0 && f64::from(*n) < need).collect();
    let thin_hours = thin.iter().filter(|t| **t).count();
    // Every pollutant of a thin hour is flagged: the hour stands for less of the city.
    for c in columns.iter_mut().filter(|c| !c.variable.is_met()) {
        for (f, _) in c.flags.iter_mut().zip(&thin).filter(|(_, t)| **t) {
            f.insert(QcFlags::THIN);
        }
    }
    let series = StationSeries { station: options.name.clone(), times, columns };
    Ok(CitySeries { series, stations: names, ignored, contributing, thin_hours })
}
