//! The meteorological forecast of one issue (from an NWP feed), laid onto the hours after the
//! issue so the model reads it where it would read observed meteorology.

use chrono::NaiveDateTime;

use crate::{Hourly, MAX_LEAD, rh_from, wind_components};

/// One forecast hour of meteorology. Missing values are `None`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MetForecastHour {
    pub valid: NaiveDateTime,
    pub temp: Option<f64>,
    pub dewp: Option<f64>,
    pub rh: Option<f64>,
    pub pres: Option<f64>,
    pub wspd: Option<f64>,
    /// Degrees the wind blows from.
    pub wdir: Option<f64>,
    pub precip: Option<f64>,
}

impl Hourly {
    /// The table cut at `i0` (nothing later is kept) and extended with empty hours for every lead,
    /// so a forecast issued at `i0` cannot read the future. `i0` may lie past the last
    /// observation (late data): the hours between are missing.
    pub fn cut_at(&self, i0: usize) -> Hourly {
        let n = i0 + 1 + MAX_LEAD;
        let fit = |v: &[f64]| -> Vec<f64> {
            (0..n).map(|i| if i <= i0 { v.get(i).copied().unwrap_or(f64::NAN) } else { f64::NAN }).collect()
        };
        Hourly {
            start: self.start,
            pm25: fit(&self.pm25),
            temp: fit(&self.temp),
            dewp: fit(&self.dewp),
            rh: fit(&self.rh),
            pres: fit(&self.pres),
            wspd: fit(&self.wspd),
            u: fit(&self.u),
            v: fit(&self.v),
            precip: fit(&self.precip),
            emission: (0..n).map(|i| self.emission_at(i)).collect(),
        }
    }

    /// Lays forecast hours valid after index `i0` onto the table (humidity from dew point when
    /// absent, wind as u/v). Returns how many hours were laid; hours outside the table are skipped.
    pub fn lay_met_forecast(&mut self, hours: &[MetForecastHour], i0: usize) -> usize {
        let mut laid = 0;
        for m in hours {
            let Some(i) = self.index(m.valid).filter(|i| *i > i0) else { continue };
            let v = |x: Option<f64>| x.unwrap_or(f64::NAN);
            self.temp[i] = v(m.temp);
            self.dewp[i] = v(m.dewp);
            self.rh[i] = m.rh.unwrap_or_else(|| rh_from(v(m.temp), v(m.dewp)));
            self.pres[i] = v(m.pres);
            self.wspd[i] = v(m.wspd);
            self.precip[i] = v(m.precip);
            (self.u[i], self.v[i]) = wind_components(v(m.wspd), v(m.wdir));
            laid += 1;
        }
        laid
    }
}

/// Parses a met-forecast CSV (`issue_time,valid_time` and any of temp, dewp, rh, pres, wspd,
/// wdir, precip) and keeps the rows of one issue valid after it. Errors name the file, line and column.
pub fn parse_met_forecast_csv(
    file: &str,
    bytes: &[u8],
    issue: NaiveDateTime,
) -> Result<Vec<MetForecastHour>, crate::ForecastError> {
    let t = crate::csv_table::CsvTable::parse(file, bytes)?;
    let (ic, vc) = (t.required("issue_time")?, t.required("valid_time")?);
    let cols: Vec<(&str, usize)> = ["temp", "dewp", "rh", "pres", "wspd", "wdir", "precip"]
        .iter()
        .filter_map(|n| t.column(n).map(|c| (*n, c)))
        .collect();
    let mut out = Vec::new();
    for (line, cells) in &t.rows {
        let (it, vt) = (t.time(*line, cells, ic, "issue_time")?, t.time(*line, cells, vc, "valid_time")?);
        if it != issue || vt <= issue {
            continue; // another run, or not in the future of this one
        }
        let mut m = MetForecastHour { valid: vt, ..Default::default() };
        for (name, c) in &cols {
            let v = t.number(*line, cells, *c, name)?;
            match *name {
                "temp" => m.temp = v,
                "dewp" => m.dewp = v,
                "rh" => m.rh = v,
                "pres" => m.pres = v,
                "wspd" => m.wspd = v,
                "wdir" => m.wdir = v,
                _ => m.precip = v,
            }
        }
        out.push(m);
    }
    Ok(out)
}
