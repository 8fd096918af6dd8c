//! The synthetic sample city: a seeded generator of hourly observations and meteorology.
//!
//! The series is made up, not measured. It follows a simple box model: PM2.5 builds up from
//! emissions under weak wind and low mixing, and is swept out by wind and rain. Weather moves
//! between clean (post-frontal northerlies), normal and stagnant regimes, and stagnant spells are
//! more frequent and longer in winter, so the heating season brings multi-day heavy episodes.
//! A few QC problems are planted on purpose so the demo has something to find.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Timelike};

pub const DEFAULT_SEED: u64 = 20241;
pub const STATION: &str = "sample-city";
pub const OBSERVATIONS_FILE: &str = "observations.csv";
/// 2024-01-01 through 2026-03-31: two heating seasons and the HJ 633-2026 switch.
pub const SAMPLE_DAYS: i64 = 821;

/// SplitMix64: small, seedable and identical on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-12);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Regime {
    Clean,
    Normal,
    Stagnant,
}

/// One generated hour.
pub struct Hour {
    pub time: NaiveDateTime,
    pub pm25: f64,
    pub pm10: f64,
    pub so2: f64,
    pub no2: f64,
    pub co: f64,
    pub o3: f64,
    pub temp: f64,
    pub dewp: f64,
    pub rh: f64,
    pub pres: f64,
    pub wspd: f64,
    pub wdir: f64,
    pub precip: f64,
}

/// Spring Festival (lunar new year's day) for the years the sample covers; emissions dip around it.
fn spring_festival(year: i32) -> Option<NaiveDate> {
    match year {
        2024 => NaiveDate::from_ymd_opt(2024, 2, 10),
        2025 => NaiveDate::from_ymd_opt(2025, 1, 29),
        2026 => NaiveDate::from_ymd_opt(2026, 2, 17),
        _ => None,
    }
}

/// The heating season of northern China: 15 November to 15 March.
pub fn heating_season(d: NaiveDate) -> bool {
    let md = (d.month(), d.day());
    md >= (11, 15) || md <= (3, 15)
}

/// Relative emission activity at a time (1 = an ordinary non-heating weekday hour).
pub fn emission_index(t: NaiveDateTime) -> f64 {
    let d = t.date();
    let heating = if heating_season(d) { 1.6 } else { 1.0 };
    let festival = match spring_festival(d.year()) {
        Some(f) if (d - f).num_days().abs() <= 3 => 0.6,
        _ => 1.0,
    };
    let h = t.hour() as f64;
    let traffic = 1.0 + 0.25 * (-((h - 8.0) / 2.0).powi(2)).exp() + 0.3 * (-((h - 19.0) / 2.5).powi(2)).exp();
    heating * festival * traffic
}

/// Generate `days` days of hourly data from `start`, deterministically from `seed`.
pub fn generate(seed: u64, start: NaiveDate, days: i64) -> Vec<Hour> {
    let mut rng = Rng::new(seed);
    let t0 = start.and_hms_opt(0, 0, 0).expect("midnight");
    let (mut regime, mut pm, mut ta, mut pa, mut dd, mut wdir) = (Regime::Normal, 40.0, 0.0, 0.0, 6.0, 180.0);
    let mut rain_left = 0u32;
    let mut out = Vec::with_capacity((days * 24) as usize);
    for i in 0..days * 24 {
        let t = t0 + Duration::hours(i);
        let doy = t.ordinal() as f64;
        let winter = (std::f64::consts::TAU * (doy - 15.0) / 365.25).cos(); // 1 mid-January, -1 mid-July
        let hour = t.hour() as f64;
        let sun = (std::f64::consts::PI * (hour - 6.0) / 12.0).sin().max(0.0); // daylight 06–18
        regime = match regime {
            Regime::Normal if rng.uniform() < 0.0015 + 0.004 * winter.max(0.0) => Regime::Stagnant,
            Regime::Normal if rng.uniform() < 0.006 => Regime::Clean,
            Regime::Stagnant if rng.uniform() < 1.0 / (24.0 * (1.5 + 3.5 * winter.max(0.0))) => Regime::Clean,
            Regime::Clean if rng.uniform() < 1.0 / 36.0 => Regime::Normal,
            r => r,
        };
        // Meteorology.
        ta = 0.98 * ta + 0.35 * rng.normal();
        let front = if regime == Regime::Clean { -4.0 } else { 0.0 };
        let temp = 15.5 - 13.0 * winter + 5.0 * (std::f64::consts::TAU * (hour - 8.0) / 24.0).sin() + ta + front;
        let (wmean, wsd, dir_target, dd_target, pres_shift) = match regime {
            Regime::Clean => (5.5, 1.5, 320.0, 13.0, 7.0),
            Regime::Normal => (2.6, 1.0, wdir, 7.0, 0.0),
            Regime::Stagnant => (1.1, 0.5, 170.0, 2.0, -3.0),
        };
        let wspd = ((wmean + wsd * rng.normal()) * (0.8 + 0.4 * sun)).max(0.0);
        wdir = (wdir + 0.2 * ((dir_target - wdir + 540.0) % 360.0 - 180.0) + 15.0 * rng.normal()).rem_euclid(360.0);
        dd = 0.9 * dd + 0.1 * dd_target + 0.4 * rng.normal();
        let dewp = temp - dd.max(0.3);
        let rh = 100.0 * ((17.62 * dewp / (243.12 + dewp)) - (17.62 * temp / (243.12 + temp))).exp();
        pa = 0.95 * pa + 0.05 * pres_shift + 0.3 * rng.normal();
        let pres = 1012.0 + 11.0 * winter + pa + 0.8 * (std::f64::consts::TAU * hour / 12.0).cos();
        if rain_left == 0 && regime != Regime::Clean && rng.uniform() < 0.004 + 0.012 * (-winter).max(0.0) {
            rain_left = 2 + (rng.uniform() * 8.0) as u32;
        }
        let precip = if rain_left > 0 {
            rain_left -= 1;
            -(1.0 - rng.uniform()).ln() * 2.0
        } else {
            0.0
        };
        // PM2.5 box model: emissions into a shallow (night, winter) or deep (day, summer) layer,
        // more secondary formation when humid, removal by wind and rain.
        let e = emission_index(t);
        let depth = 0.55 + 0.45 * sun * (1.2 - 0.4 * winter);
        let humid = 1.0 + 0.6 * ((rh - 70.0) / 15.0).tanh().max(0.0);
        let source = 2.0 * e * humid / depth;
        let removal = 0.012 + 0.022 * wspd + 0.004 * wspd * wspd + 0.08 * precip.min(5.0);
        pm = (pm + source - removal * pm).max(2.0) * (0.04 * rng.normal()).exp();
        let dust = if (3..=5).contains(&t.month()) && wspd > 6.0 { 40.0 * (wspd - 6.0) } else { 0.0 };
        let pm10 = pm * (1.15 + 0.2 * rng.uniform()) + 20.0 + dust;
        let no2 = (15.0 + 28.0 * e / depth / (1.0 + 0.25 * wspd) + 4.0 * rng.normal()).max(2.0);
        let co = (0.35 + 0.0105 * pm + 0.08 * rng.normal()).max(0.1);
        let so2 =
            (4.0 + 14.0 * f64::from(u8::from(heating_season(t.date()))) + 0.04 * pm + 2.0 * rng.normal()).max(2.0);
        let photo = 150.0 * sun.powf(1.5) * (0.45 + 0.55 * (1.0 - winter) / 2.0) * (1.0 - 0.5 * pm / (pm + 120.0));
        let o3 = (25.0 + photo - 0.4 * (no2 - 15.0) + 6.0 * rng.normal()).max(2.0);
        out.push(Hour { time: t, pm25: pm, pm10, so2, no2, co, o3, temp, dewp, rh, pres, wspd, wdir, precip });
    }
    out
}

/// The canonical CSV of the sample, with the planted QC problems.
pub fn observations_csv(seed: u64) -> String {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
    let hours = generate(seed, start, SAMPLE_DAYS);
    let mut rng = Rng::new(seed ^ 0xA5A5);
    let outage = 5000..5005; // a five-hour station outage: rows absent, a gap for QC
    let (spike, duplicate, stuck) = (9000, 12000, 14000..14030);
    let mut s = String::from("time,station,pm25,pm10,so2,no2,co,o3,temp,dewp,rh,pres,wspd,wdir,precip\n");
    for (i, h) in hours.iter().enumerate() {
        if outage.contains(&i) {
            continue;
        }
        let pm25 = if i == spike {
            "985".to_owned()
        } else if rng.uniform() < 0.008 {
            "NA".to_owned()
        } else {
            format!("{:.0}", h.pm25)
        };
        let temp = if stuck.contains(&i) { hours[stuck.start].temp } else { h.temp };
        let row = |pm25: &str| {
            format!(
                "{},{STATION},{pm25},{:.0},{:.0},{:.0},{:.2},{:.0},{:.1},{:.1},{:.0},{:.1},{:.1},{:.0},{:.1}\n",
                h.time.format("%Y-%m-%dT%H:%M:%S+08:00"),
                h.pm10,
                h.so2,
                h.no2,
                h.co,
                h.o3,
                temp,
                h.dewp,
                h.rh.clamp(1.0, 100.0),
                h.pres,
                h.wspd,
                h.wdir,
                h.precip
            )
        };
        s.push_str(&row(&pm25));
        if i == duplicate {
            // The same hour sent twice by a logger, with a different PM2.5.
            let _ = write!(s, "{}", row(&format!("{:.0}", h.pm25 + 17.0)));
        }
    }
    s
}

/// Write the sample city into `out` and its illustrative reduction list into `lists`.
pub fn write(seed: u64, out: &Path, lists: &Path) -> Result<()> {
    std::fs::create_dir_all(out)?;
    let path = out.join(OBSERVATIONS_FILE);
    std::fs::write(&path, observations_csv(seed))?;
    println!("wrote {} (synthetic, seed {seed})", path.display());
    use crate::sample_stations as st;
    let dir = out.join(st::REALTIME_DIR);
    std::fs::create_dir_all(&dir)?;
    let files = st::realtime_csv(seed);
    for (name, text) in &files {
        std::fs::write(dir.join(name), st::gzip(text)?)?;
    }
    println!("wrote {} ({} monthly files, national real-time layout, synthetic)", dir.display(), files.len());
    std::fs::write(out.join(st::MET_FILE), st::gzip(&st::met_csv(seed))?)?;
    println!("wrote {} (synthetic weather station)", out.join(st::MET_FILE).display());
    std::fs::create_dir_all(lists)?;
    let (list, inventory) = crate::sample_list::list_and_inventory_csv(seed);
    std::fs::write(lists.join(crate::sample_list::LIST_FILE), list)?;
    std::fs::write(lists.join(crate::sample_list::INVENTORY_FILE), inventory)?;
    println!("wrote {} (illustrative)", lists.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic_and_seed_dependent() {
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let (a, b, c) = (generate(1, start, 20), generate(1, start, 20), generate(2, start, 20));
        assert!(a.iter().zip(&b).all(|(x, y)| x.pm25 == y.pm25 && x.temp == y.temp));
        assert!(a.iter().zip(&c).any(|(x, y)| x.pm25 != y.pm25));
    }

    #[test]
    fn winters_have_heavy_episodes_and_summers_are_cleaner() {
        let hours = generate(DEFAULT_SEED, NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(), 366);
        let mean = |m: &[u32]| {
            let v: Vec<f64> = hours.iter().filter(|h| m.contains(&h.time.month())).map(|h| h.pm25).collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        let (winter, summer) = (mean(&[1, 2, 12]), mean(&[6, 7, 8]));
        assert!(winter > 1.8 * summer, "winter {winter:.0} summer {summer:.0}");
        // At least a few days above 150 µg/m³ (AQI > 200) in the year.
        let heavy_days = hours.chunks(24).filter(|d| d.iter().map(|h| h.pm25).sum::<f64>() / 24.0 > 150.0).count();
        assert!((3..60).contains(&heavy_days), "{heavy_days} heavy days");
    }
}
