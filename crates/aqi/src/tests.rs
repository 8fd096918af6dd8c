use chrono::NaiveDate;
use proptest::prelude::*;

use crate::{DailyConcentrations, HourlyConcentrations, Indicator, Pollutant, Standards};

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn edition(year: &str) -> &'static crate::AqiStandard {
    let d = if year == "2012" { "2020-01-01" } else { "2026-06-01" };
    Standards::builtin().for_date(date(d))
}

fn indicator(key: &str) -> Indicator {
    Indicator::ALL.into_iter().find(|i| i.key() == key).unwrap()
}

#[test]
fn every_breakpoint_of_both_editions_gives_its_iaqi() {
    const IAQI: [u32; 8] = [0, 50, 100, 150, 200, 300, 400, 500];
    let golden = include_str!("../testdata/breakpoints.golden");
    let mut checked = 0;
    for line in golden.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let (head, values) = line.split_once(':').unwrap();
        let mut head = head.split_whitespace();
        let (year, key) = (head.next().unwrap(), head.next().unwrap());
        let std = edition(year);
        let bps: Vec<f64> = values.split_whitespace().map(|v| v.parse().unwrap()).collect();
        assert_eq!(std.breakpoints(indicator(key)), &bps[..], "{year} {key}");
        for (bp, want) in bps.iter().zip(IAQI) {
            assert_eq!(std.iaqi(indicator(key), *bp).unwrap(), Some(want), "{year} {key} at {bp}");
            checked += 1;
        }
    }
    assert_eq!(checked, 2 * (10 * 8 + 5 + 6));
}

#[test]
fn values_between_breakpoints_match_hand_computation() {
    // (edition, indicator, concentration, IAQI worked out by hand with the HJ 633 formula, rounded up)
    let cases = [
        ("2012", "pm25_24h", 100.0, 132), // 50/40 × 25 + 100 = 131.25
        ("2026", "pm25_24h", 100.0, 137), // 50/55 × 40 + 100 = 136.36
        ("2026", "pm25_24h", 75.0, 114),  // 50/55 × 15 + 100 = 113.64
        ("2012", "pm10_24h", 200.0, 125), // 50/100 × 50 + 100 = 125 exactly
        ("2026", "pm10_24h", 200.0, 131), // 50/130 × 80 + 100 = 130.77
        ("2012", "so2_24h", 100.0, 75),   // 50/100 × 50 + 50
        ("2012", "co_24h", 3.3, 83),      // 50/2 × 1.3 + 50 = 82.5
        ("2012", "co_24h", 3.39, 83),     // CO is truncated to 0.1 mg/m³ first
        ("2012", "no2_24h", 1.0, 2),      // 50/40 × 1 = 1.25
        ("2012", "o3_8h", 170.0, 110),    // 50/55 × 10 + 100 = 109.09
        ("2012", "o3_1h", 250.0, 125),    // 50/100 × 50 + 100
        ("2012", "no2_1h", 1000.0, 180),  // 50/500 × 300 + 150
        ("2026", "pm25_24h", 36.0, 52),   // 50/25 × 1 + 50 = 52
        ("2012", "pm25_24h", 600.0, 500), // above the top: capped at 500
        ("2026", "co_1h", 151.0, 500),
    ];
    for (year, key, c, want) in cases {
        assert_eq!(edition(year).iaqi(indicator(key), c).unwrap(), Some(want), "{year} {key} {c}");
    }
}

#[test]
fn footnote_cases_follow_the_edition_in_force() {
    let (e12, e26) = (edition("2012"), edition("2026"));
    assert_eq!(e12.iaqi(Indicator::So2_1h, 801.0).unwrap(), None);
    assert_eq!(e26.iaqi(Indicator::So2_1h, 801.0).unwrap(), Some(200));
    assert_eq!(e12.iaqi(Indicator::O3_8h, 801.0).unwrap(), None);
    assert_eq!(e26.iaqi(Indicator::O3_8h, 801.0).unwrap(), Some(300));

    // 2012 daily: O3 8 h above 800 is reported from the daily maximum 1 h value.
    let c = DailyConcentrations { o3_8h: Some(850.0), o3_1h: Some(900.0), ..Default::default() };
    let r = Standards::builtin().daily(date("2025-07-01"), &c).unwrap();
    assert_eq!(r.aqi, 350); // o3_1h 900: 100/200 × 100 + 300
    let r = Standards::builtin().daily(date("2026-07-01"), &c).unwrap();
    assert_eq!(r.aqi, 300);

    // 2012 real-time: SO2 1 h above 800 is reported from the 24 h mean.
    let h = HourlyConcentrations { so2: Some(900.0), so2_24h: Some(100.0), ..Default::default() };
    assert_eq!(Standards::builtin().hourly(date("2025-01-01"), &h).unwrap().aqi, 75);
    assert_eq!(Standards::builtin().hourly(date("2026-03-01"), &h).unwrap().aqi, 200);
}

#[test]
fn the_edition_switches_on_2026_03_01() {
    let c = DailyConcentrations { pm25: Some(75.0), ..Default::default() };
    let before = Standards::builtin().daily(date("2026-02-28"), &c).unwrap();
    let after = Standards::builtin().daily(date("2026-03-01"), &c).unwrap();
    assert_eq!((before.aqi, before.standard.as_str()), (100, "HJ 633-2012"));
    assert_eq!((after.aqi, after.standard.as_str()), (114, "HJ 633-2026"));
    // Dates before HJ 633-2012 itself use the oldest edition.
    assert_eq!(Standards::builtin().for_date(date("2010-01-01")).id(), "HJ 633-2012");
}

#[test]
fn levels_and_primary_pollutants() {
    let s = Standards::builtin().for_date(date("2026-12-01"));
    let cases = [(0, 1, "优"), (50, 1, "优"), (51, 2, "良"), (150, 3, "轻度污染"), (151, 4, "中度污染")];
    for (aqi, level, category) in cases {
        assert_eq!((s.level(aqi).level, s.level(aqi).category.as_str()), (level, category), "AQI {aqi}");
    }
    assert_eq!((s.level(300).level, s.level(301).level, s.level(500).rgb.as_str()), (5, 6, "#7E0023"));

    // A tie lists every pollutant at the maximum.
    let tie = DailyConcentrations { pm25: Some(75.0), pm10: Some(150.0), no2: Some(20.0), ..Default::default() };
    let r = Standards::builtin().daily(date("2025-01-01"), &tie).unwrap();
    assert_eq!((r.aqi, r.primary.clone()), (100, vec![Pollutant::Pm10, Pollutant::Pm25]));
    // No primary pollutant at AQI ≤ 50.
    let clean = DailyConcentrations { pm25: Some(35.0), pm10: Some(50.0), ..Default::default() };
    assert!(Standards::builtin().daily(date("2025-01-01"), &clean).unwrap().primary.is_empty());
}

#[test]
fn bad_input_is_an_error() {
    let s = Standards::builtin();
    assert!(s.daily(date("2025-01-01"), &DailyConcentrations::default()).is_err());
    let neg = DailyConcentrations { pm25: Some(-1.0), ..Default::default() };
    assert!(s.daily(date("2025-01-01"), &neg).is_err());
    let nan = DailyConcentrations { pm25: Some(f64::NAN), ..Default::default() };
    assert!(s.daily(date("2025-01-01"), &nan).is_err());
}

#[test]
fn a_broken_table_is_rejected() {
    let good = include_str!("../tables/hj633-2026.toml");
    let unsorted = good.replace("[0, 35, 60, 115", "[0, 35, 160, 115");
    assert!(crate::AqiStandard::from_toml("x", &unsorted).is_err());
    let missing = good.replace("key = \"co_1h\"", "key = \"o3_1h\"");
    assert!(crate::AqiStandard::from_toml("x", &missing).is_err());
}

fn conc() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![Just(None), (0.0f64..3000.0).prop_map(Some)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    /// A higher concentration of any pollutant never lowers the daily AQI.
    #[test]
    fn aqi_never_falls_when_a_concentration_rises(
        v in proptest::collection::vec(conc(), 6),
        which in 0usize..6,
        bump in 0.0f64..500.0,
        late in any::<bool>(),
    ) {
        let d = if late { date("2026-05-01") } else { date("2025-05-01") };
        let mk = |v: &[Option<f64>]| DailyConcentrations {
            so2: v[0], no2: v[1], pm10: v[2], co: v[3].map(|c| c / 40.0), o3_8h: v[4].map(|c| c.min(800.0)),
            o3_1h: None, pm25: v[5],
        };
        let mut higher = v.clone();
        higher[which] = Some(v[which].unwrap_or(0.0) + bump);
        let (a, b) = (Standards::builtin().daily(d, &mk(&v)), Standards::builtin().daily(d, &mk(&higher)));
        if let (Ok(a), Ok(b)) = (a, b) {
            prop_assert!(b.aqi >= a.aqi, "{} then {}", a.aqi, b.aqi);
        }
    }
}

#[test]
fn the_table_read_backwards_gives_the_concentration_of_an_iaqi() {
    let t = edition("2012");
    let pm = Indicator::Pm25_24h;
    // HJ 633-2012 Table 1, PM2.5 24 h: 115 µg/m³ at IAQI 150, 150 at 200, 250 at 300.
    assert_eq!(t.concentration(pm, 150.0), Some(115.0));
    assert_eq!(t.concentration(pm, 200.0), Some(150.0));
    // Halfway between 150 (IAQI 200) and 250 (IAQI 300): 200 µg/m³.
    assert_eq!(t.concentration(pm, 250.0), Some(200.0));
    // 75–115 spans IAQI 100–150: IAQI 120 is 75 + 20 × 40 / 50 = 91.
    assert!((t.concentration(pm, 120.0).unwrap() - 91.0).abs() < 1e-9);
    assert_eq!(t.concentration(pm, 501.0), None);
}

proptest! {
    /// Reading the table backwards and forwards again gives the IAQI back (rounded up, as HJ 633
    /// rounds): the inverse is exact wherever the concentration needs no truncation.
    #[test]
    fn iaqi_of_the_concentration_of_an_iaqi_is_that_iaqi(i in 0u32..=500) {
        let t = edition("2012");
        let c = t.concentration(Indicator::Pm25_24h, f64::from(i)).unwrap();
        let back = t.iaqi(Indicator::Pm25_24h, c).unwrap().unwrap();
        // Concentrations are truncated to whole µg/m³ before the lookup, which can lower the IAQI by
        // what one µg/m³ is worth on the steepest segment (50 IAQI over 35 µg/m³).
        prop_assert!(back <= i && i - back <= 2, "{i} → {c} → {back}");
    }
}
