//! Data-driven golden tests for the rule tables and properties of the grading.

use chrono::NaiveDate;
use proptest::prelude::*;

use crate::*;

fn day(k: usize) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 1).unwrap() + chrono::Duration::days(k as i64)
}

fn forecast(spec: &str) -> Vec<DailyForecast> {
    spec.split_whitespace()
        .enumerate()
        .map(|(k, v)| {
            let (v, primary) = if let Some(x) = v.strip_suffix("o3") {
                (x, vec!["O3".to_owned()])
            } else if let Some(x) = v.strip_suffix("pm10") {
                (x, vec!["PM10".to_owned()])
            } else {
                (v, vec!["PM2.5".to_owned()])
            };
            let (p50, p90) = match v.split_once('/') {
                Some((a, b)) => (a.parse().unwrap(), Some(b.parse().unwrap())),
                None => (v.parse().unwrap(), None),
            };
            DailyForecast { date: day(k), aqi_p50: p50, aqi_p10: None, aqi_p90: p90, primary }
        })
        .collect()
}

#[test]
fn grading_golden_cases() {
    let golden = include_str!("../testdata/grading.golden");
    let mut n = 0;
    for (lineno, line) in golden.lines().enumerate().filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('|').map(str::trim).collect();
        let profile = GradingProfile::builtin(f[0]).unwrap();
        let current = CurrentWarning { level: f[1].parse().unwrap(), end: None };
        let bound = if f[2] == "p90" { RangeBound::P90 } else { RangeBound::P50 };
        let r = grade(&profile, &forecast(f[3]), current, bound).unwrap();
        let at = format!("golden line {}: {line}\n{:#?}", lineno + 1, r.reasons);
        assert_eq!(r.level.name(), f[4], "{at}");
        assert_eq!(serde_json::to_value(r.action).unwrap(), f[5], "{at}");
        let cited: Vec<&str> = r.reasons.iter().map(|x| x.rule.split(' ').nth(1).unwrap()).collect();
        let want: Vec<&str> = f[6].split_whitespace().collect();
        assert_eq!(cited, want, "{at}");
        assert_eq!(r.response_level, r.level.response_level(), "{at}");
        n += 1;
    }
    assert!(n >= 40, "{n} cases");
}

#[test]
fn reasons_cite_the_days_and_start_end_bracket_the_episode() {
    let r = grade(
        &GradingProfile::national_2024(),
        &forecast("90 210 320 230 100 80 70"),
        CurrentWarning::default(),
        RangeBound::P50,
    )
    .unwrap();
    assert_eq!(r.reasons[0].days, vec![day(1), day(2), day(3)]);
    assert!(r.reasons[0].zh.contains("12-02, 12-03, 12-04") && r.reasons[0].zh.contains("红色"), "{}", r.reasons[0].zh);
    assert!(r.reasons[0].en.contains("> 300"), "{}", r.reasons[0].en);
    assert_eq!(r.start.unwrap().to_rfc3339(), "2026-12-02T00:00:00+08:00");
    assert_eq!(r.end.unwrap().to_rfc3339(), "2026-12-05T00:00:00+08:00");
}

#[test]
fn a_gap_in_the_dates_is_refused() {
    let mut f = forecast("210 220 100");
    f[2].date = day(5);
    assert!(grade(&GradingProfile::national_2024(), &f, CurrentWarning::default(), RangeBound::P50).is_err());
}

#[test]
fn shipped_profiles_load_and_a_broken_one_is_refused() {
    for id in GradingProfile::shipped_ids() {
        GradingProfile::builtin(id).unwrap();
    }
    let text = include_str!("../profiles/national-2024.toml").replace("level = \"orange\"", "level = \"red\"");
    assert!(GradingProfile::from_toml("x", &text).is_err());
    assert!(GradingProfile::builtin("nowhere").is_err());
}

#[test]
fn rolling_24h_windows_cross_midnight() {
    // 12 clean hours, then 24 hours at 200 µg/m³ from noon to noon, then clean again.
    let mut pm = vec![20.0; 12];
    pm.extend(vec![200.0; 24]);
    pm.extend(vec![20.0; 36]);
    let start = day(0).and_hms_opt(0, 0, 0).unwrap();
    let calendar = daily_pm25_aqi(start, &pm, DayWindow::Calendar);
    let rolling = daily_pm25_aqi(start, &pm, DayWindow::Rolling24h);
    // Calendar days each hold only half the episode: mean 110 µg/m³ → AQI 146 (2026 table: 50/55 × 50 + 100 = 145.5).
    assert_eq!(calendar[0], (day(0), 146));
    // The noon-to-noon window holds all of it: 200 µg/m³ → AQI 250; it ends on day 1.
    assert_eq!(rolling.iter().find(|(d, _)| *d == day(1)).unwrap().1, 250);
}

fn at(h: u32) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::FixedOffset::east_opt(8 * 3600).unwrap().with_ymd_and_hms(2026, 12, 1, h, 0, 0).unwrap()
}

use chrono::TimeZone;

fn actor(h: u32) -> Actor<'static> {
    Actor { by: "office:li", at: at(h), reason: "forecast AQI > 200 for 48 h", forecast_id: "run-2026-12-01T16" }
}

#[test]
fn the_lifecycle_records_every_step_and_refuses_illegal_ones() {
    let mut w =
        Warning::draft("W1", WarningLevel::Yellow, at(20), at(20) + chrono::Duration::days(2), &actor(16)).unwrap();
    assert!(w.upgrade(WarningLevel::Orange, at(23), &actor(17)).is_err(), "a draft cannot be upgraded");
    assert!(w.lift(&actor(17)).is_err(), "a draft cannot be lifted");
    w.issue(&actor(17)).unwrap();
    assert!(w.issue(&actor(17)).is_err(), "issued twice");
    assert!(w.upgrade(WarningLevel::Yellow, at(23), &actor(18)).is_err(), "an upgrade must raise");
    w.upgrade(WarningLevel::Red, at(20) + chrono::Duration::days(3), &actor(18)).unwrap();
    assert!(w.downgrade(WarningLevel::None, at(23), &actor(19)).is_err(), "downgrading to none is a lift");
    w.downgrade(WarningLevel::Orange, at(20) + chrono::Duration::days(3), &actor(19)).unwrap();
    assert!(w.extend(at(20) + chrono::Duration::days(2), &actor(20)).is_err(), "an extension must move the end");
    w.extend(at(20) + chrono::Duration::days(4), &actor(20)).unwrap();
    assert!(w.lift(&actor(19)).is_err(), "time cannot run backwards");
    w.lift(&actor(21)).unwrap();
    assert!(w.upgrade(WarningLevel::Red, at(23), &actor(22)).is_err(), "nothing after a lift");
    let kinds: Vec<TransitionKind> = w.transitions.iter().map(|t| t.kind).collect();
    use TransitionKind::*;
    assert_eq!(kinds, vec![Draft, Issue, Upgrade, Downgrade, Extend, Lift]);
    assert!(w.transitions.iter().all(|t| t.by == "office:li" && !t.forecast_id.is_empty()));
    assert_eq!((w.state, w.level()), (WarningState::Lifted, WarningLevel::None));
    let anonymous = Actor { by: "", ..actor(22) };
    assert!(Warning::draft("W2", WarningLevel::Red, at(20), at(22), &anonymous).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]
    /// Raising any day's AQI never lowers the recommended level, for every shipped profile.
    #[test]
    fn a_higher_aqi_never_lowers_the_level(
        days in proptest::collection::vec(0u32..520, 7),
        which in 0usize..7,
        bump in 1u32..200,
        o3 in proptest::collection::vec(any::<bool>(), 7),
        p90 in any::<bool>(),
        profile in 0usize..3,
    ) {
        let id = GradingProfile::shipped_ids().nth(profile).unwrap();
        let p = GradingProfile::builtin(id).unwrap();
        let mk = |v: &[u32]| -> Vec<DailyForecast> {
            v.iter().enumerate().map(|(k, a)| DailyForecast {
                date: day(k), aqi_p50: *a, aqi_p10: None, aqi_p90: Some(a + 40),
                primary: vec![if o3[k] { "O3" } else { "PM2.5" }.to_owned()],
            }).collect()
        };
        let mut higher = days.clone();
        higher[which] += bump;
        let bound = if p90 { RangeBound::P90 } else { RangeBound::P50 };
        let a = grade(&p, &mk(&days), CurrentWarning::default(), bound).unwrap();
        let b = grade(&p, &mk(&higher), CurrentWarning::default(), bound).unwrap();
        prop_assert!(b.level >= a.level, "{:?} → {:?} for {:?} → {:?}", a.level, b.level, days, higher);
    }
}
