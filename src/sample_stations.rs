//! The synthetic sample city as a forecaster receives it: four assessment stations (城市点) and
//! one reference point (对照点) in the national real-time layout, one gzipped file per month, and
//! a weather-station table beside them, because the national files carry no meteorology.
//!
//! Each assessment station is the generator's city field times a station factor whose four
//! values average exactly one each hour, so before rounding their PM2.5, PM10, SO2, NO2 and CO
//! means are the city series the single-station `observations.csv` holds. O3 moves the other way
//! (more NO, less O3), so its mean differs. The planted QC problems are spread across stations.

use std::fmt::Write as _;
use std::io::Write as _;

use anyhow::Result;
use chrono::NaiveDate;

use crate::sample::{Hour, Rng, SAMPLE_DAYS, generate};

/// The folder of monthly real-time files, and the weather-station table, under the sample.
pub const REALTIME_DIR: &str = "realtime";
pub const MET_FILE: &str = "met.csv.gz";
/// The sample city's name as the real-time release's `area` gives it.
pub const AREA: &str = "示例市";
pub const WEATHER_STATION: &str = "示例气象站";

/// A synthetic station: code, name, county, longitude, latitude, whether it is an assessment
/// point, and its typical level against the city field.
pub struct SampleStation {
    pub code: &'static str,
    pub name: &'static str,
    pub county: &'static str,
    pub longitude: f64,
    pub latitude: f64,
    pub assessment: bool,
    factor: f64,
}

pub const STATIONS: [SampleStation; 5] = [
    SampleStation {
        code: "9001A",
        name: "合成站一（市监测站）",
        county: "源汇区",
        longitude: 114.0107,
        latitude: 33.5762,
        assessment: true,
        factor: 1.06,
    },
    SampleStation {
        code: "9002A",
        name: "合成站二（开发区）",
        county: "郾城区",
        longitude: 114.0421,
        latitude: 33.5968,
        assessment: true,
        factor: 1.04,
    },
    SampleStation {
        code: "9003A",
        name: "合成站三（高新区）",
        county: "召陵区",
        longitude: 114.0934,
        latitude: 33.5611,
        assessment: true,
        factor: 0.96,
    },
    SampleStation {
        code: "9004A",
        name: "合成站四（市政府）",
        county: "郾城区",
        longitude: 114.0175,
        latitude: 33.6015,
        assessment: true,
        factor: 0.94,
    },
    SampleStation {
        code: "9005A",
        name: "合成对照点（水库）",
        county: "舞阳县",
        longitude: 113.6102,
        latitude: 33.4370,
        assessment: false,
        factor: 0.55,
    },
];

/// The planted problems, by hour index from the sample's start.
struct Planted;
impl Planted {
    /// 9001A and 9002A are both out for five hours, inside 9004A's dark day: thin hours.
    const OUTAGE: std::ops::Range<usize> = 5000..5005;
    const DARK_DAY: std::ops::Range<usize> = 4990..5014;
    /// 9003A: one isolated PM2.5 spike.
    const SPIKE: usize = 9000;
    /// 9002A: one hour sent twice with another PM2.5.
    const DUPLICATE: usize = 12000;
    /// The weather station's temperature sensor sticks for 30 hours.
    const STUCK: std::ops::Range<usize> = 14000..14030;
}

fn absent(station: usize, i: usize) -> bool {
    (station <= 1 && Planted::OUTAGE.contains(&i)) || (station == 3 && Planted::DARK_DAY.contains(&i))
}

/// Each hour, each station's factor against the city field: a fixed level plus slow noise,
/// the four assessment factors centred so they average exactly one.
fn factors(seed: u64, hours: usize) -> Vec<[f64; 5]> {
    let mut rng = Rng::new(seed ^ 0x5747);
    let mut noise = [0.0f64; 5];
    let mut out = Vec::with_capacity(hours);
    for _ in 0..hours {
        let mut f = [0.0; 5];
        for (k, s) in STATIONS.iter().enumerate() {
            noise[k] = 0.9 * noise[k] + 0.035 * rng.normal();
            f[k] = s.factor + noise[k];
        }
        let mean = f[..4].iter().sum::<f64>() / 4.0;
        for x in &mut f[..4] {
            *x += 1.0 - mean;
        }
        f[4] = f[4].max(0.2);
        out.push(f);
    }
    out
}

const HEADER: &str = "timepoint,stationcode,longitude,latitude,area,positionname,primarypollutant,aqi,pm10,\
     pm10_24h,pm2_5,pm2_5_24h,o3,o3_24h,o3_8h,o3_8h_24h,no2,no2_24h,so2,so2_24h,co,co_24h\n";

/// One release row. The derived columns (AQI, primary pollutant, running means) are left empty:
/// hazewarn computes them from the hourly values and does not read them.
fn row(s: &SampleStation, h: &Hour, f: f64, pm25: &str) -> String {
    format!(
        "{},{},{:.4},{:.4},{AREA},{},,,{:.0},,{pm25},,{:.0},,,,{:.0},,{:.0},,{:.2},\n",
        h.time.format("%Y-%m-%d %H:%M:%S"),
        s.code,
        s.longitude,
        s.latitude,
        s.name,
        h.pm10 * f,
        h.o3 * (2.0 - f).max(0.5),
        h.no2 * f,
        h.so2 * f,
        h.co * f,
    )
}

/// The monthly real-time files: (file name, CSV text).
pub fn realtime_csv(seed: u64) -> Vec<(String, String)> {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
    let hours = generate(seed, start, SAMPLE_DAYS);
    let f = factors(seed, hours.len());
    let mut rng = Rng::new(seed ^ 0x4E41);
    let mut files: Vec<(String, String)> = Vec::new();
    for (i, h) in hours.iter().enumerate() {
        let name = format!("{}.csv.gz", h.time.format("%Y-%m"));
        if files.last().is_none_or(|(n, _)| *n != name) {
            files.push((name, HEADER.to_owned()));
        }
        let text = &mut files.last_mut().expect("a file").1;
        for (k, s) in STATIONS.iter().enumerate() {
            if absent(k, i) {
                continue;
            }
            let pm25 = match rng.uniform() {
                _ if k == 2 && i == Planted::SPIKE => "985".to_owned(),
                u if u < 0.006 => String::new(),
                u if u < 0.008 => "—".to_owned(),
                _ => format!("{:.0}", h.pm25 * f[i][k]),
            };
            text.push_str(&row(s, h, f[i][k], &pm25));
            if k == 1 && i == Planted::DUPLICATE {
                text.push_str(&row(s, h, f[i][k], &format!("{:.0}", h.pm25 * f[i][k] + 17.0)));
            }
        }
    }
    files
}

/// The weather-station table (canonical layout, meteorology only).
pub fn met_csv(seed: u64) -> String {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
    let hours = generate(seed, start, SAMPLE_DAYS);
    let mut s = String::from("time,station,temp,dewp,rh,pres,wspd,wdir,precip\n");
    for (i, h) in hours.iter().enumerate() {
        let temp = if Planted::STUCK.contains(&i) { hours[Planted::STUCK.start].temp } else { h.temp };
        let _ = writeln!(
            s,
            "{},{WEATHER_STATION},{temp:.1},{:.1},{:.0},{:.1},{:.1},{:.0},{:.1}",
            h.time.format("%Y-%m-%d %H:%M"),
            h.dewp,
            h.rh.clamp(1.0, 100.0),
            h.pres,
            h.wspd,
            h.wdir,
            h.precip
        );
    }
    s
}

/// Gzip with a fixed header (no name, no time), so the same text gives the same bytes.
pub fn gzip(text: &str) -> Result<Vec<u8>> {
    let mut e = flate2::GzBuilder::new().mtime(0).write(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes())?;
    Ok(e.finish()?)
}

/// The `[[stations]]` of the sample city, for a city config.
pub fn stations_toml() -> String {
    let mut s = String::new();
    for st in &STATIONS {
        let role = if st.assessment { "assessment" } else { "reference" };
        let _ = write!(
            s,
            "\n[[stations]]\ncode = \"{}\"\nname = \"{}\"\ncounty = \"{}\"\nlongitude = {}\nlatitude = {}\nrole = \"{role}\"\n",
            st.code, st.name, st.county, st.longitude, st.latitude
        );
    }
    s
}

/// The assessment stations' codes.
pub fn assessment_codes() -> Vec<String> {
    STATIONS.iter().filter(|s| s.assessment).map(|s| s.code.to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_assessment_factors_average_one_each_hour() {
        for f in factors(7, 500) {
            let mean = f[..4].iter().sum::<f64>() / 4.0;
            assert!((mean - 1.0).abs() < 1e-12, "{f:?}");
            assert!(f.iter().all(|x| *x > 0.0), "{f:?}");
        }
    }
}
