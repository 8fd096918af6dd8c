//! Hand-computed cases: a baseline from a week with a warning day left out, and each treatment
//! against production, abatement and emission evidence; the shipped table as golden data; and a
//! property: running less never makes a verdict worse.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use proptest::prelude::*;

use crate::{Baseline, LineEvidence, Reading, Series, Tolerances, Treatment, Verdict, baseline, evaluate};

fn bj(d: u32, h: u32) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(8 * 3600).unwrap().with_ymd_and_hms(2024, 1, d, h, 0, 0).unwrap()
}

#[test]
fn the_shipped_tolerances_are_the_documented_illustrative_ones() {
    let t = Tolerances::builtin();
    assert_eq!(t.version, "hazewarn-illustrative-2026-12");
    assert!(t.source.contains("[U]"));
    assert_eq!(
        (t.stop_max_ratio, t.cut_slack, t.running_ratio, t.abatement_min_ratio, t.min_coverage, t.baseline_days),
        (0.10, 0.05, 0.20, 0.50, 0.75, 7)
    );
    let bad = include_str!("../rules/tolerances.toml").replace("min_coverage = 0.75", "min_coverage = 75");
    let e = Tolerances::from_toml("city.toml", &bad).unwrap_err().to_string();
    assert_eq!(e, "city.toml: min_coverage: 75 is not a share between 0 and 1");
}

#[test]
fn the_baseline_is_the_same_hours_of_the_week_before_without_warning_days() {
    // 15–21 January, 08:00 and 09:00 each day; the 18th was a warning day.
    let mut history = Vec::new();
    for d in 15..=21 {
        history.push(Reading { at: bj(d, 8), value: f64::from(d) * 10.0 });
        history.push(Reading { at: bj(d, 9), value: 100.0 });
    }
    // A reading on the start's own day and one a week and a day before are not in the window.
    history.push(Reading { at: bj(22, 8), value: 1e6 });
    history.push(Reading { at: bj(14, 8), value: 1e6 });
    let excluded = [NaiveDate::from_ymd_opt(2024, 1, 18).unwrap()];
    let b = baseline(&history, bj(22, 0), &excluded, 7);
    // 08:00: (150 + 160 + 170 + 190 + 200 + 210) / 6 = 180.
    assert_eq!(b.hourly[8], Some(180.0));
    assert_eq!(b.hourly[9], Some(100.0));
    assert_eq!(b.hourly[10], None);
    assert_eq!(b.days.len(), 6);
}

/// A flat baseline of `base` at every hour, and the step's readings.
fn series(base: f64, during: &[(u32, f64)]) -> Series {
    Series {
        during: during.iter().map(|&(h, v)| Reading { at: bj(22, h), value: v }).collect(),
        baseline: Baseline { hourly: [Some(base); 24], days: Vec::new() },
    }
}

fn evidence(
    treatment: Treatment,
    production: Option<Series>,
    abatement: Option<Series>,
    emission: Option<Series>,
) -> LineEvidence {
    LineEvidence { line: "1#".into(), treatment, hours: 4, production, abatement, emission }
}

#[test]
fn each_treatment_is_judged_against_its_allowance() {
    let t = Tolerances::builtin();
    let four = |v: f64| (8..12).map(|h| (h, v)).collect::<Vec<_>>();
    // Stopped: 8 % of baseline is within the 10 % a stopped line may draw.
    let v = evaluate(&evidence(Treatment::Stop, Some(series(1000.0, &four(80.0))), None, None), &t);
    assert_eq!((v.verdict, v.production_ratio), (Verdict::Complied, Some(0.08)));
    // Cut 30 %: allowed 70 % + 5 %; at 72 % complied, at 80 % suspected.
    let v = evaluate(&evidence(Treatment::Cut(30), Some(series(1000.0, &four(720.0))), None, None), &t);
    assert_eq!(v.verdict, Verdict::Complied);
    let v = evaluate(&evidence(Treatment::Cut(30), Some(series(1000.0, &four(800.0))), None, None), &t);
    match v.verdict {
        Verdict::Suspected { evidence, confidence } => {
            assert_eq!(evidence, ["production power at 80 % of its baseline; 75 % allowed"]);
            assert!((confidence - 1.0).abs() < 1e-12, "one source of one, every hour: {confidence}");
        }
        other => panic!("{other:?}"),
    }
    // Production cut as required, but the dust collector off in 3 of the 4 hours it ran;
    // emissions within their allowance: one of three sources, covering all hours.
    let abatement = series(200.0, &[(8, 180.0), (9, 20.0), (10, 10.0), (11, 0.0)]);
    let v = evaluate(
        &evidence(
            Treatment::Cut(30),
            Some(series(1000.0, &four(700.0))),
            Some(abatement),
            Some(series(50.0, &four(30.0))),
        ),
        &t,
    );
    match v.verdict {
        Verdict::Suspected { evidence, confidence } => {
            assert_eq!(evidence, ["abatement below 50 % of its baseline in 3 of 4 hours production ran"]);
            assert!((confidence - 1.0 / 3.0).abs() < 1e-12, "{confidence}");
        }
        other => panic!("{other:?}"),
    }
    // Self-directed and exempt lines are not judged; two readings of four hours are too few.
    let v = evaluate(&evidence(Treatment::SelfDirected, Some(series(1000.0, &four(1000.0))), None, None), &t);
    assert_eq!(v.verdict, Verdict::NotRequired);
    let v = evaluate(&evidence(Treatment::Stop, Some(series(1000.0, &[(8, 900.0), (9, 900.0)])), None, None), &t);
    assert!(matches!(v.verdict, Verdict::NoData { .. }), "{v:?}");
}

proptest! {
    /// Scaling production down (everything else equal) never turns a complied line suspected.
    #[test]
    fn running_less_never_makes_a_verdict_worse(
        values in prop::collection::vec(0.0f64..2000.0, 4),
        cut in 0u8..=100,
        scale in 0.0f64..1.0,
    ) {
        let t = Tolerances::builtin();
        let at = |vs: &[f64]| vs.iter().enumerate().map(|(k, v)| (8 + k as u32, *v)).collect::<Vec<_>>();
        let lower: Vec<f64> = values.iter().map(|v| v * scale).collect();
        let judge = |vs: &[f64]| evaluate(&evidence(Treatment::Cut(cut), Some(series(1000.0, &at(vs))), None, None), &t).verdict;
        if judge(&values) == Verdict::Complied {
            prop_assert_eq!(judge(&lower), Verdict::Complied);
        }
    }
}

#[test]
fn hours_the_baseline_lacks_are_left_out_of_the_ratio() {
    let t = Tolerances::builtin();
    let mut b = Baseline { hourly: [None; 24], days: Vec::new() };
    b.hourly[8] = Some(100.0);
    let s = Series {
        during: vec![Reading { at: bj(22, 8), value: 5.0 }, Reading { at: bj(22, 9), value: 500.0 }],
        baseline: b,
    };
    let mut e = evidence(Treatment::Stop, Some(s), None, None);
    e.hours = 1;
    let v = evaluate(&e, &t);
    assert_eq!((v.production_ratio, v.verdict), (Some(0.05), Verdict::Complied));
}

#[test]
fn a_power_feed_reads_from_csv_and_json_alike() {
    let csv = "\u{feff}meter,time,kw\nLH-P1,2024-01-22 08:00,120.5\nLH-P1,2024-01-22T09:00:00+08:00,80\n";
    let json = r#"{"readings": [{"meter": "LH-P1", "time": "2024-01-22 08:00", "kw": 120.5},
                               {"meter": "LH-P1", "time": "2024-01-22T01:00:00Z", "kw": 80}]}"#;
    let a = crate::parse_power("feed.csv", csv.as_bytes()).unwrap();
    let b = crate::parse_power("feed.json", json.as_bytes()).unwrap();
    assert_eq!(a, b, "01:00Z is 09:00 in Beijing");
    assert_eq!(a.len(), 2);
    assert_eq!((a[0].meter.as_str(), a[0].at, a[0].kw), ("LH-P1", bj(22, 8), 120.5));
    let zh = "电表编号,时间,功率\nLH-P1,2024-01-22 08:00,1\n";
    assert_eq!(crate::parse_power("feed.csv", zh.as_bytes()).unwrap()[0].kw, 1.0);
}

#[test]
fn a_bad_power_feed_is_refused_whole_with_each_row_and_field_named() {
    let csv = "meter,time,kw\nLH-P1,2024-01-22 08:00,12\nLH P1,2024-01-22 08:00,12\nLH-P1,22/01/2024,12\n\
               LH-P1,2024-01-22 09:00,-3\nLH-P1,2024-01-22 10:00,NaN\nLH-P1,2024-01-22 08:00,13\n";
    let e = crate::parse_power("feed.csv", csv.as_bytes()).unwrap_err().to_string();
    for want in [
        "feed.csv: 5 problem(s); nothing was read",
        "row 3, field `meter`: `LH P1`",
        "row 4, field `time`: `22/01/2024`",
        "row 5, field `kw`: -3 is not a power",
        "row 6, field `kw`: NaN is not a power",
        "row 7, field `time`: LH-P1 2024-01-22 08:00:00 +08:00 is also row 2, with another kw",
    ] {
        assert!(e.contains(want), "{want} not in:\n{e}");
    }
    let e = crate::parse_power("feed.json", br#"[{"meter": "M1", "time": "2024-01-22 08:00", "kw": "12"}]"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("row 1, field `kw`: missing, or not a number"), "{e}");
    let e = crate::parse_power("feed.csv", b"meter,kw\nM,1\n").unwrap_err().to_string();
    assert_eq!(e, "feed.csv: header: no `time` (or 时间) column");
}

#[test]
fn quarter_hour_readings_become_hourly_means() {
    let at = |h: u32, m: u32| bj(22, h) + chrono::Duration::minutes(i64::from(m));
    let r = |t, value| Reading { at: t, value };
    let means = crate::hourly_means(&[r(at(8, 0), 100.0), r(at(8, 15), 80.0), r(at(8, 45), 60.0), r(at(9, 30), 5.0)]);
    assert_eq!(means, vec![r(bj(22, 8), 80.0), r(bj(22, 9), 5.0)]);
}
