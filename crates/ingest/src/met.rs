//! Meteorology for station data that carries none. The national layouts give pollutants only, so
//! a city names a separate meteorological source: a weather-station table in the canonical
//! layout (`time,station,temp,dewp,rh,pres,wspd,wdir,precip`, any subset), joined on the hour.

use std::path::Path;

use crate::read::{self, NVAR};
use crate::table::{Column, QcFlags, StationSeries, Variable};
use crate::{IngestError, QcConfig, QcReport, qc};

/// Read a weather-station table (one station, any number of files) with QC. It must hold at
/// least one meteorological column and exactly one station.
pub fn ingest_met<P: AsRef<Path>>(paths: &[P], qc: &QcConfig) -> Result<(StationSeries, QcReport), IngestError> {
    let mut files = Vec::new();
    for p in paths {
        let p = p.as_ref();
        let name = p.display().to_string();
        let raw = read::read_met_file(p)?;
        if raw.rows.is_empty() {
            return Err(IngestError::Empty { file: name });
        }
        let mut carried = raw.present;
        carried[Variable::Pm25.index()] = false;
        if !carried.iter().any(|c| *c) {
            return Err(IngestError::MissingColumn {
                file: name,
                column: "temp, dewp, rh, pres, wspd, wdir or precip".into(),
            });
        }
        files.push((name, raw));
    }
    let first = paths.first().map(|p| p.as_ref().display().to_string()).unwrap_or_default();
    let (obs, mut report) = qc::build(files, qc);
    let mut series = obs.series;
    if series.len() != 1 {
        return Err(IngestError::Parse {
            file: first,
            line: 0,
            column: "station".into(),
            message: format!(
                "a meteorological source is one weather station; found {}",
                series.iter().map(|s| s.station.as_str()).collect::<Vec<_>>().join(", ")
            ),
        });
    }
    let mut met = series.remove(0);
    // The reader always makes a PM2.5 column; a weather station has none.
    met.columns.retain(|c| c.variable.is_met());
    for st in &mut report.stations {
        st.columns.retain(|c| Variable::from_name(&c.column).is_some_and(Variable::is_met));
    }
    Ok((met, report))
}

/// `series` with the meteorology of `met` on its hours: each variable `met` carries replaces the
/// series' own, hour by hour; an hour the weather station lacks is a gap.
pub fn join_met(series: &StationSeries, met: &StationSeries) -> StationSeries {
    let mut out = series.clone();
    let (Some(m0), Some(s0)) = (met.times.first(), series.times.first()) else { return out };
    let offset = (*s0 - *m0).num_hours();
    for mc in &met.columns {
        let mut values = vec![f64::NAN; series.len()];
        let mut flags = vec![QcFlags::GAP; series.len()];
        for (k, (v, f)) in values.iter_mut().zip(flags.iter_mut()).enumerate() {
            let j = offset + k as i64;
            if j >= 0 && (j as usize) < met.len() {
                *v = mc.values[j as usize];
                *f = mc.flags[j as usize];
            }
        }
        out.columns.retain(|c| c.variable != mc.variable);
        out.columns.push(Column { variable: mc.variable, values, flags });
    }
    out.columns.sort_by_key(|c| c.variable);
    debug_assert!(out.columns.len() <= NVAR);
    out
}
