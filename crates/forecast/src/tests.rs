use chrono::NaiveDate;
use hazewarn_ingest::{IngestOptions, ingest};

use crate::*;

/// A forecast issued at `issue` with p10/p50/p90 = 80/100/120 at every lead (for unit tests).
pub(crate) fn flat_forecast(issue: chrono::NaiveDateTime) -> Forecast {
    let leads = (1..=MAX_LEAD)
        .map(|lead| LeadForecast {
            lead,
            valid: issue + chrono::Duration::hours(lead as i64),
            p10: 80.0,
            p50: 100.0,
            p90: 120.0,
            persistence: 0.0,
            climatology: 0.0,
            damped: 0.0,
        })
        .collect();
    Forecast::from_leads(issue, leads)
}

/// An hourly table from `start` holding only PM2.5 (met missing), for unit tests.
pub(crate) fn pm_only(start: chrono::NaiveDateTime, pm: Vec<f64>) -> Hourly {
    let nan = vec![f64::NAN; pm.len()];
    let (temp, dewp, rh, pres, wspd, u, v, precip) =
        (nan.clone(), nan.clone(), nan.clone(), nan.clone(), nan.clone(), nan.clone(), nan.clone(), nan);
    Hourly { start, pm25: pm, temp, dewp, rh, pres, wspd, u, v, precip, emission: Vec::new() }
}

/// A small synthetic city (made here, seeded): PM2.5 builds up under weak wind and clears with
/// strong wind, so meteorology carries real information.
fn synthetic(days: usize) -> Hourly {
    let mut s = String::from("time,station,pm25,temp,dewp,pres,wspd,wdir,precip\n");
    let (mut pm, mut w, mut seed) = (60.0f64, 2.0f64, 7u64);
    let mut rnd = || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let t0 = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
    for i in 0..days * 24 {
        if rnd() < 0.02 {
            w = if w < 2.5 { 4.0 + 3.0 * rnd() } else { 0.5 + 1.5 * rnd() };
        }
        pm = (pm + 6.0 - (0.02 + 0.03 * w) * pm + 4.0 * (rnd() - 0.5)).max(3.0);
        let t = t0 + chrono::Duration::hours(i as i64);
        s += &format!("{},c,{pm:.1},5,-5,1015,{w:.2},300,0\n", t.format("%Y-%m-%d %H:%M"));
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.csv");
    std::fs::write(&p, s).unwrap();
    let (obs, _) = ingest(&[p], &IngestOptions::default()).unwrap();
    Hourly::from_series(&obs.series[0])
}

#[test]
fn parameters_are_checked() {
    let mut p = ModelParams::new(false, 16);
    assert!(p.check().is_ok());
    p.train_leads.push(97);
    assert!(p.check().is_err());
    let mut p = ModelParams::new(false, 16);
    p.issue_hours = vec![24];
    assert!(p.check().is_err());
    let h = synthetic(10);
    assert!(matches!(ModelParams::new(false, 16).fit(&h, h.len(), None), Err(ForecastError::NotEnoughData(_))));
    assert!(ModelParams::new(true, 16).fit(&h, h.len(), None).is_err(), "future met needs a met table");
}

#[test]
fn nothing_observed_after_the_issue_time_enters_a_forecast() {
    let h = synthetic(200);
    let until = 150 * 24;
    // Every stage on, the recent spread and the level correction too, so that they are checked.
    let mut p = ModelParams::new(false, 16);
    p.stages = Stages::ALL;
    let mut model = p.fit(&h, until, None).unwrap();
    // Whatever held-out issues chose, the level correction is on here, so that it is checked too.
    model.bias_power = 0.5;
    let i0 = 170 * 24 + 16;
    let a = model.predict(&Derived::new(&h), i0, None).unwrap();
    // Rewrite everything after the issue time: the forecast must not move.
    let mut future = h.clone();
    for i in i0 + 1..future.len() {
        future.pm25[i] = 999.0;
        future.wspd[i] = 0.0;
        future.temp[i] = 40.0;
    }
    let b = model.predict(&Derived::new(&future), i0, None).unwrap();
    assert_eq!(a, b);
    // Likewise with the spread and the level set by recent verification, which read observations
    // up to i0 and days before the issue day.
    let (va, sa) = model.predict_verified(&Derived::new(&h), i0, None).unwrap();
    assert_eq!((va.clone(), sa), model.predict_verified(&Derived::new(&future), i0, None).unwrap());
    assert!(sa.spread.pairs > 1000, "two weeks of forecasts verify: {sa:?}");
    // Of the last 30 days' forecasts only the 20 issued after training ended (days 150..=169)
    // count: D+1..D+3 of 17 ended before the issue day, and 2 and 1 of the next two.
    assert_eq!(sa.bias.days, 17 * 3 + 2 + 1, "{sa:?}");
    let r = sa.bias.ratio.expect("enough verified days");
    assert!((sa.bias.factor - r.sqrt()).abs() < 1e-12);
    for (v, l) in va.leads.iter().zip(&a.leads) {
        let k = if (v.valid.date() - va.issue.date()).num_days() >= 2 { sa.bias.factor } else { 1.0 };
        assert!((v.p50 - k * l.p50).abs() < 1e-9, "lead {}: {} against {} × {k}", l.lead, v.p50, l.p50);
    }
    assert_eq!(a.leads.len(), MAX_LEAD);
    assert!(a.leads.iter().all(|l| l.p10 <= l.p50 && l.p50 <= l.p90 && l.p10 >= 0.0));
}

#[test]
fn future_met_is_read_only_from_the_met_table_and_it_helps() {
    let h = synthetic(260);
    let until = 200 * 24;
    let model = ModelParams::new(true, 16).fit(&h, until, Some(&h)).unwrap();
    let d = Derived::new(&h);
    // Observed PM2.5 after the issue changes nothing while the met table stays the same.
    let i0 = 230 * 24 + 16;
    let mut future = h.clone();
    for x in &mut future.pm25[i0 + 1..] {
        *x = 999.0;
    }
    let a = model.predict(&Derived::new(&future), i0, Some(&d)).unwrap();
    let b = model.predict(&d, i0, Some(&d)).unwrap();
    assert_eq!(a, b);
    // With the wind known, the model beats climatology and damped persistence at 24 h on unseen days.
    let (mut em, mut ed, mut ec) = (0.0, 0.0, 0.0);
    for day in 201..258 {
        let i0 = day * 24 + 16;
        let f = model.predict(&d, i0, Some(&d)).unwrap();
        let l = &f.leads[23];
        let o = h.pm25[i0 + 24];
        em += (l.p50 - o).powi(2);
        ed += (l.damped - o).powi(2);
        ec += (l.climatology - o).powi(2);
    }
    assert!(em < ed && em < ec, "model {em:.0}, damped {ed:.0}, climatology {ec:.0}");
}

#[test]
fn a_saved_model_forecasts_exactly_like_the_fitted_one() {
    let h = synthetic(120);
    let d = Derived::new(&h);
    for kind in [ModelKind::Gbdt, ModelKind::Linear] {
        let mut p = ModelParams::new(true, 16);
        p.kind = kind;
        let model = p.fit(&h, 100 * 24, Some(&h)).unwrap();
        let back = FittedModel::from_json(&model.to_json()).unwrap();
        let i0 = 110 * 24 + 16;
        let whole = model.predict(&d, i0, Some(&d)).unwrap();
        assert_eq!(whole, back.predict(&d, i0, Some(&d)).unwrap(), "{kind:?}");
        // The first hours alone are the whole forecast's first hours, across a band boundary.
        for n in [1, 5] {
            assert_eq!(model.predict_leads(&d, i0, Some(&d), n).unwrap().leads, whole.leads[..n], "{kind:?} {n}");
        }
        let card = model.model_card("t", "synthetic");
        assert!(card.contains("stagnation_h") && card.contains("| 1 |") && card.contains("| 2–3 |"), "{card}");
        // With future met the log-target learner is fitted, saved and named on the card.
        assert_eq!(back.log_bands.len(), model.bands.len());
        assert!(card.contains("log-target learner: averaged in with weight 0.5"), "{card}");
        assert!(card.contains("the last 14 days verified (factor 0.7–1.6)"), "{card}");
        // With met the shrinkage, the regimes and the nowcast did not earn their place.
        assert!(card.contains("- stages: -shrinkage,-regimes,-nowcast\n"), "{card}");
    }
    assert!(FittedModel::from_json("{\"schema\":\"other\"}").is_err());
}

#[test]
fn an_emissions_table_overrides_the_calendar_proxy_where_it_has_rows() {
    let mut h = synthetic(3);
    let t = |k: i64| h.start + chrono::Duration::hours(k);
    let proxy = h.emission[5];
    let rows = vec![
        (t(5), "industry".to_owned(), 0.4),
        (t(5), "traffic".to_owned(), 0.8),
        (t(10_000), "industry".to_owned(), 0.1),
    ];
    let off = h.apply_emissions(&rows);
    assert_eq!(off, 1);
    assert!((h.emission[5] - 0.6).abs() < 1e-12, "sectors are averaged");
    assert_eq!(h.emission[6], proxy, "uncovered hours keep the proxy");
    assert_eq!(h.emission_at(h.len() + 3), calendar::emission_index(h.time(h.len() + 3)));
}

#[test]
fn a_curtailment_lowers_the_emission_index_only_in_its_hours() {
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
    let mut h = Hourly {
        start,
        pm25: vec![50.0; 48],
        temp: vec![0.0; 48],
        dewp: vec![0.0; 48],
        rh: vec![50.0; 48],
        pres: vec![1020.0; 48],
        wspd: vec![1.0; 48],
        u: vec![0.0; 48],
        v: vec![0.0; 48],
        precip: vec![0.0; 48],
        emission: vec![1.2; 48],
    };
    let from = start + chrono::Duration::hours(10);
    // 20 % cut for 5 hours, the last of which lies on the grid; hours past the table are skipped.
    assert_eq!(h.apply_curtailment(from, from + chrono::Duration::hours(5), 0.2), 5);
    assert_eq!(h.apply_curtailment(start + chrono::Duration::hours(46), start + chrono::Duration::hours(60), 0.5), 2);
    assert!((h.emission[9] - 1.2).abs() < 1e-12);
    assert!((h.emission[10] - 0.96).abs() < 1e-12);
    assert!((h.emission[14] - 0.96).abs() < 1e-12);
    assert!((h.emission[15] - 1.2).abs() < 1e-12);
    assert!((h.emission[47] - 0.6).abs() < 1e-12);
}

#[test]
fn a_backtest_issuer_gives_what_each_issue_would_alone() {
    let h = synthetic(200);
    let model = ModelParams::new(false, 16).fit(&h, 150 * 24, None).unwrap();
    let d = Derived::new(&h);
    let mut issuer = VerifiedIssuer::new(&model, &d, None);
    for day in 150..170 {
        let i0 = day * 24 + 16;
        assert_eq!(issuer.issue(i0).unwrap(), model.predict_verified(&d, i0, None).unwrap(), "day {day}");
    }
}

#[test]
fn recent_verification_reads_no_forecast_of_the_training_period() {
    let h = synthetic(200);
    let d = Derived::new(&h);
    let i0 = 170 * 24 + 16;
    // Fitted on everything up to the issue: no past forecast may be re-created, so the forecast
    // is the model's own, as calibrated.
    let mut p = ModelParams::new(false, 16);
    p.stages = Stages::ALL;
    let model = p.fit(&h, i0 + 1, None).unwrap();
    let (f, recent) = model.predict_verified(&d, i0, None).unwrap();
    assert_eq!((recent.spread.pairs, recent.bias.days, recent.nowcast.hours), (0, 0, 0), "{recent:?}");
    assert_eq!(f.leads, model.predict(&d, i0, None).unwrap().leads);
    let did: Vec<(Stage, f64)> = f.applied.iter().map(|a| (a.stage, a.value)).collect();
    assert_eq!(did, [(Stage::RecentSpread, 1.0), (Stage::LevelCorrection, 1.0), (Stage::Nowcast, 0.0)]);
    // Given the forecasts issued at the time (by a model fitted 20 days earlier), those verify it:
    // for the spread, the leads of the last 14 days' forecasts observed by the issue (24, 48 and
    // 72 of the last three days', all 96 of the eleven before: 1,200 hours), and for the nowcast
    // the first hours of all 20.
    let older = ModelParams::new(false, 16).fit(&h, 150 * 24, None).unwrap();
    let issued: Vec<(usize, Forecast)> =
        (150..170).map(|day| (day * 24 + 16, older.predict(&d, day * 24 + 16, None).unwrap())).collect();
    let (_, recent) = VerifiedIssuer::new(&model, &d, None).with_issued(issued).issue(i0).unwrap();
    assert_eq!((recent.spread.pairs, recent.nowcast.hours), (24 + 48 + 72 + 11 * 96, 20), "{recent:?}");
}

#[test]
fn a_schema_3_model_loads_only_when_it_was_fitted_without_future_met() {
    let h = synthetic(120);
    for future_met in [false, true] {
        let mut p = ModelParams::new(future_met, 16);
        p.kind = ModelKind::Linear;
        let json = p
            .fit(&h, 100 * 24, future_met.then_some(&h))
            .unwrap()
            .to_json()
            .replace("hazewarn-forecast/4", "hazewarn-forecast/3");
        assert_eq!(FittedModel::from_json(&json).is_ok(), !future_met, "future met {future_met}");
    }
}

#[test]
fn the_mixing_features_are_the_warming_since_the_coolest_hour_and_the_days_range() {
    // Temperature climbs 0 → 23 °C through every 24 hours and drops back (hand-computed below).
    let mut h = synthetic(10);
    h.temp = (0..h.len()).map(|i| (i % 24) as f64).collect();
    let d = Derived::new(&h);
    let names = Derived::feature_names(true);
    let at = |name: &str| names.iter().position(|n| *n == name).unwrap();
    let clim = Climatology::fit(&h, h.len());
    for (i0, lead, heating) in [(100, 5, 9.0), (100, 10, 11.0), (100, 20, 0.0), (100, 24, 4.0), (48, 30, 6.0)] {
        let mut row = Vec::new();
        d.row(i0, lead, &clim, 0.0, Some(&d), &mut row);
        // The valid index's place in the day is r = (i0 + lead) % 24: warmer by min(r, 11) than 11 h before.
        assert_eq!(row[at("f_heating")], heating, "{i0} + {lead}");
        assert_eq!(row[at("f_trange24")], 23.0, "{i0} + {lead}");
    }
}

/// The modules this one names (`crate::x`, or a name `lib.rs` re-exports from `x`), outside
/// comments and its tests.
fn imports(src: &str, modules: &[String], reexports: &std::collections::HashMap<String, String>) -> Vec<String> {
    let code = src.split("#[cfg(test)]").next().unwrap_or_default();
    let mut out = std::collections::BTreeSet::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for part in line.split("crate::").skip(1) {
            let head: String = part.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            // `crate::{A, b::C}` names several.
            let names: Vec<String> = if let Some(group) = part.strip_prefix('{') {
                group
                    .split('}')
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .map(|n| n.trim().split("::").next().unwrap_or_default().to_owned())
                    .collect()
            } else {
                vec![head]
            };
            for n in names {
                if modules.contains(&n) {
                    out.insert(n);
                } else if let Some(m) = reexports.get(&n) {
                    out.insert(m.clone());
                }
            }
        }
    }
    out.into_iter().collect()
}

#[test]
fn the_forecaster_modules_import_one_another_without_a_cycle() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    let modules: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok())
        .filter_map(|f| f.strip_suffix(".rs").map(str::to_owned))
        .filter(|m| m != "lib" && m != "tests")
        .collect();
    let mut reexports = std::collections::HashMap::new();
    for line in read("lib.rs").lines().filter_map(|l| l.strip_prefix("pub use ")) {
        let (module, names) = line.split_once("::").unwrap();
        for n in names.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|n| !n.is_empty()) {
            reexports.insert(n.to_owned(), module.to_owned());
        }
    }
    let graph: std::collections::HashMap<String, Vec<String>> = modules
        .iter()
        .map(|m| {
            (
                m.clone(),
                imports(&read(&format!("{m}.rs")), &modules, &reexports).into_iter().filter(|x| x != m).collect(),
            )
        })
        .collect();
    assert!(graph["model"].contains(&"conformal".to_owned()), "the scan sees imports: {:?}", graph["model"]);
    // Depth-first: a module met again on the current path closes a cycle.
    fn visit<'a>(
        m: &'a str,
        g: &'a std::collections::HashMap<String, Vec<String>>,
        path: &mut Vec<&'a str>,
        done: &mut Vec<&'a str>,
    ) {
        if let Some(k) = path.iter().position(|p| *p == m) {
            panic!("import cycle: {}", path[k..].join(" → ") + " → " + m);
        }
        if done.contains(&m) {
            return;
        }
        path.push(m);
        for n in &g[m] {
            visit(n, g, path, done);
        }
        path.pop();
        done.push(m);
    }
    let mut done = Vec::new();
    for m in &modules {
        visit(m, &graph, &mut Vec::new(), &mut done);
    }
}
