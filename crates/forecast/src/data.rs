//! The hourly inputs a forecast reads, with the derived series the features use.

use chrono::{Datelike, Duration, NaiveDateTime, Timelike};
use hazewarn_ingest::{StationSeries, Variable};

/// Observations (and, in backtests, the met that stands in for an NWP forecast) on a regular
/// hourly grid. NaN is missing. Built from the canonical table with unusable cells masked.
#[derive(Debug, Clone)]
pub struct Hourly {
    pub start: NaiveDateTime,
    pub pm25: Vec<f64>,
    pub temp: Vec<f64>,
    pub dewp: Vec<f64>,
    pub rh: Vec<f64>,
    pub pres: Vec<f64>,
    pub wspd: Vec<f64>,
    /// Wind components (m/s, towards +x east, +y north); 0 when calm, NaN when missing.
    pub u: Vec<f64>,
    pub v: Vec<f64>,
    pub precip: Vec<f64>,
    /// Emission index per hour: the calendar proxy unless an emissions-history table says otherwise.
    pub emission: Vec<f64>,
}

fn or_nan(s: &StationSeries, v: Variable) -> Vec<f64> {
    s.usable(v).unwrap_or_else(|| vec![f64::NAN; s.len()])
}

/// Wind components (u east, v north) from speed and the direction the wind blows from. Calm (no
/// direction) is no transport; a missing speed stays missing.
pub fn wind_components(speed: f64, from_deg: f64) -> (f64, f64) {
    if speed.is_nan() {
        (f64::NAN, f64::NAN)
    } else if from_deg.is_nan() {
        (0.0, 0.0)
    } else {
        // Air moves towards from_deg + 180°.
        (-speed * from_deg.to_radians().sin(), -speed * from_deg.to_radians().cos())
    }
}

/// Relative humidity from temperature and dew point (Magnus formula), %.
pub fn rh_from(temp: f64, dewp: f64) -> f64 {
    let e = |t: f64| (17.62 * t / (243.12 + t)).exp();
    (100.0 * e(dewp) / e(temp)).min(100.0)
}

impl Hourly {
    pub fn from_series(s: &StationSeries) -> Hourly {
        let (temp, dewp) = (or_nan(s, Variable::Temp), or_nan(s, Variable::Dewp));
        let mut rh = or_nan(s, Variable::Rh);
        for i in 0..rh.len() {
            if rh[i].is_nan() {
                rh[i] = rh_from(temp[i], dewp[i]);
            }
        }
        let wspd = or_nan(s, Variable::Wspd);
        let wdir = or_nan(s, Variable::Wdir);
        let (u, v): (Vec<f64>, Vec<f64>) = wspd.iter().zip(&wdir).map(|(w, d)| wind_components(*w, *d)).unzip();
        Hourly {
            start: s.times[0],
            pm25: or_nan(s, Variable::Pm25),
            temp,
            dewp,
            rh,
            pres: or_nan(s, Variable::Pres),
            wspd,
            u,
            v,
            precip: or_nan(s, Variable::Precip),
            emission: (0..s.len()).map(|i| crate::calendar::emission_index(s.times[i])).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.pm25.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pm25.is_empty()
    }

    /// Apply an emissions-history table: (time, sector, index) rows, averaged over sectors per
    /// hour. Hours the table does not cover keep the calendar proxy. Rows off the grid are ignored
    /// and counted in the return value.
    pub fn apply_emissions(&mut self, rows: &[(NaiveDateTime, String, f64)]) -> usize {
        let mut sum = vec![(0.0, 0usize); self.len()];
        let mut off = 0;
        for (t, _, v) in rows {
            match self.index(*t) {
                Some(i) => {
                    sum[i].0 += v;
                    sum[i].1 += 1;
                }
                None => off += 1,
            }
        }
        for (e, (s, n)) in self.emission.iter_mut().zip(sum) {
            if n > 0 {
                *e = s / n as f64;
            }
        }
        off
    }

    /// Lowers the emission index by a share over hours `[from, to)`: the curtailments of a warning
    /// step, fed back so later forecasts know emissions were cut. Returns the hours changed.
    pub fn apply_curtailment(&mut self, from: NaiveDateTime, to: NaiveDateTime, share: f64) -> usize {
        let keep = 1.0 - share.clamp(0.0, 1.0);
        let mut n = 0;
        let mut t = from;
        while t < to {
            if let Some(i) = self.index(t) {
                self.emission[i] *= keep;
                n += 1;
            }
            t += Duration::hours(1);
        }
        n
    }

    /// The emission index at hour `i`, or the calendar proxy past the end of the table.
    pub fn emission_at(&self, i: usize) -> f64 {
        self.emission.get(i).copied().unwrap_or_else(|| crate::calendar::emission_index(self.time(i)))
    }

    pub fn time(&self, i: usize) -> NaiveDateTime {
        self.start + Duration::hours(i as i64)
    }

    /// The index of a time on the grid, if it lies on it.
    pub fn index(&self, t: NaiveDateTime) -> Option<usize> {
        let h = (t - self.start).num_hours();
        (h >= 0 && (h as usize) < self.len() && self.time(h as usize) == t).then_some(h as usize)
    }
}

/// Month × hour means of PM2.5 (the climatology baseline), from a training period.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Climatology {
    /// [month 1..12][hour 0..23]
    pub mean: Vec<[f64; 24]>,
    /// Quantiles of daily means per month: (p10, p50, p90).
    pub daily_quantiles: Vec<(f64, f64, f64)>,
}

impl Climatology {
    pub fn fit(h: &Hourly, until: usize) -> Climatology {
        Climatology::fit_hours(h, 0..until)
    }

    /// From the hours `hours` of `h` only: a calibration fold's climatology reads none of the
    /// hours its held-out issues verify on.
    pub fn fit_hours(h: &Hourly, hours: std::ops::Range<usize>) -> Climatology {
        let mut sum = vec![[0.0; 24]; 12];
        let mut n = vec![[0usize; 24]; 12];
        let mut daily: Vec<Vec<f64>> = vec![Vec::new(); 12];
        let (mut dsum, mut dn, mut dmonth) = (0.0, 0, h.time(hours.start).month0() as usize);
        for i in hours.start..hours.end.min(h.len()) {
            let t = h.time(i);
            let (m, hr) = (t.month0() as usize, t.hour() as usize);
            if hr == 0 {
                if dn >= 20 {
                    daily[dmonth].push(dsum / dn as f64);
                }
                (dsum, dn, dmonth) = (0.0, 0, m);
            }
            let x = h.pm25[i];
            if !x.is_nan() {
                sum[m][hr] += x;
                n[m][hr] += 1;
                dsum += x;
                dn += 1;
            }
        }
        let all: f64 = sum.iter().flatten().sum::<f64>() / n.iter().flatten().sum::<usize>().max(1) as f64;
        let mean = sum
            .iter()
            .zip(&n)
            .map(|(s, c)| std::array::from_fn(|k| if c[k] > 0 { s[k] / c[k] as f64 } else { all }))
            .collect();
        let daily_quantiles = daily
            .into_iter()
            .map(|mut v| {
                if v.is_empty() {
                    return (all * 0.4, all, all * 2.0);
                }
                v.sort_by(f64::total_cmp);
                let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
                (q(0.1), q(0.5), q(0.9))
            })
            .collect();
        Climatology { mean, daily_quantiles }
    }

    pub fn at(&self, t: NaiveDateTime) -> f64 {
        self.mean[t.month0() as usize][t.hour() as usize]
    }
}
