//! Response speed: a plan for 10,000 enterprises with 30,000 lines, and grading a 7-day forecast.

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use hazewarn_response::{
    CreditCode, CurrentWarning, DailyForecast, Emissions, Enterprise, Grade, GradeRuleTable, GradingProfile,
    GuaranteePolicy, Inventory, Measure, ProductionLine, RangeBound, ReductionList, WarningLevel, grade, plan,
};

fn big_list() -> ReductionList {
    let grades = [Grade::A, Grade::B, Grade::C, Grade::D, Grade::NonKey];
    let enterprises = (0..10_000u32)
        .map(|i| {
            let g = grades[i as usize % grades.len()];
            let lines = (0..3)
                .map(|k| ProductionLine {
                    name: format!("{k}#"),
                    capacity_eia: 100.0,
                    capacity_permit: 90.0,
                    output_last_year: 80.0,
                    emissions: Emissions { so2: 10.0 + k as f64, nox: 50.0, pm: 20.0, vocs: 5.0 },
                    trucks_per_day: 10,
                    // Every other enterprise leaves its measures to the grade-rule table.
                    measures: if i % 2 == 0 {
                        [None; 3]
                    } else {
                        [Measure::parse("cut:20").ok(), Measure::parse("cut:50").ok(), Measure::parse("stop").ok()]
                    },
                })
                .collect();
            Enterprise {
                credit_code: CreditCode::with_check(&format!("91411100MA{i:07}")).unwrap(),
                name: format!("企业{i}"),
                county: ["源汇区", "郾城区", "召陵区"][i as usize % 3].into(),
                industry: if i % 2 == 0 { "水泥熟料".into() } else { "铸造".into() },
                grade: if i % 2 == 0 && g == Grade::NonKey { Grade::B } else { g },
                guarantee: None,
                whitelist: None,
                contact: String::new(),
                endpoint: String::new(),
                contacts: Default::default(),
                lines,
            }
        })
        .collect();
    ReductionList { enterprises }
}

fn bench(c: &mut Criterion) {
    let list = big_list();
    assert_eq!(list.line_count(), 30_000);
    let rules = GradeRuleTable::builtin();
    let inventory = Inventory { totals: Emissions { so2: 2e6, nox: 6e6, pm: 3e6, vocs: 1e6 } };
    let targets = GradingProfile::national_2024().targets;
    c.bench_function("plan 10k enterprises / 30k lines (red)", |b| {
        b.iter(|| plan(&list, &rules, WarningLevel::Red, &inventory, &targets, GuaranteePolicy::Exempt).unwrap())
    });
    let profile = GradingProfile::national_2024();
    let d0 = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let forecast: Vec<DailyForecast> = [160, 210, 320, 230, 120, 90, 80]
        .iter()
        .enumerate()
        .map(|(k, a)| DailyForecast {
            date: d0 + chrono::Duration::days(k as i64),
            aqi_p50: *a,
            aqi_p10: Some(a - 30),
            aqi_p90: Some(a + 40),
            primary: vec!["PM2.5".into()],
        })
        .collect();
    c.bench_function("grade a 7-day forecast", |b| {
        b.iter(|| grade(&profile, &forecast, CurrentWarning::default(), RangeBound::P90).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
