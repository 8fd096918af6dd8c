use std::path::PathBuf;

use crate::{IngestError, IngestOptions, Layout, QcFlags, Variable, ingest};

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn canonical(rows: &[(&str, &str)]) -> String {
    let mut s = String::from("time,station,pm25,temp\n");
    for (t, rest) in rows {
        s.push_str(&format!("{t},S1,{rest}\n"));
    }
    s
}

#[test]
fn gaps_are_reindexed_and_flagged_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "a.csv", &canonical(&[("2026-01-01 00:00", "10,1"), ("2026-01-01 03:00", "NA,2")]));
    let (obs, report) = ingest(&[p], &IngestOptions::default()).unwrap();
    let s = &obs.series[0];
    assert_eq!(s.len(), 4);
    let pm = s.column(Variable::Pm25).unwrap();
    assert_eq!(pm.flags[0], QcFlags::default());
    assert!(pm.flags[1].contains(QcFlags::GAP) && pm.flags[2].contains(QcFlags::GAP));
    assert!(pm.flags[3].contains(QcFlags::MISSING));
    let st = &report.stations[0];
    assert_eq!((st.gaps.len(), st.gaps[0].hours), (1, 2));
    assert_eq!((st.columns[0].missing, st.columns[0].gap), (1, 2));
}

#[test]
fn conflicting_duplicates_keep_the_first_row_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [("2026-01-01 00:00", "10,1"), ("2026-01-01 01:00", "11,1"), ("2026-01-01 01:00", "99,1")];
    let p = write(&dir, "d.csv", &canonical(&rows));
    let (obs, report) = ingest(&[p], &IngestOptions::default()).unwrap();
    let pm = obs.series[0].column(Variable::Pm25).unwrap();
    assert_eq!(pm.values[1], 11.0);
    assert!(pm.flags[1].contains(QcFlags::DUPLICATE));
    let d = &report.stations[0].duplicates[0];
    assert!(d.kept.ends_with("d.csv:3") && d.dropped[0].ends_with("d.csv:4"), "{d:?}");
    assert_eq!(d.conflicting, vec!["pm25".to_string()]);
    // temp agreed, so it is not flagged.
    assert!(!obs.series[0].column(Variable::Temp).unwrap().flags[1].contains(QcFlags::DUPLICATE));
}

#[test]
fn impossible_values_spikes_and_flat_lines_are_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = Vec::new();
    for h in 0..72 {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap()
            + chrono::Duration::hours(h);
        // A gentle wave, one negative value, one isolated spike, and a stuck stretch of temp.
        // PM2.5 also sits at 3 µg/m³ for 16 hours: near the detection limit that is no fault.
        let pm = match h {
            5 => -3.0,
            20 => 900.0,
            50..66 => 3.0,
            _ => 40.0 + (h % 7) as f64,
        };
        let temp = if (30..58).contains(&h) { 2.5 } else { (h % 5) as f64 };
        rows.push((t.format("%Y-%m-%d %H:%M").to_string(), format!("{pm},{temp}")));
    }
    let rows: Vec<(&str, &str)> = rows.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let p = write(&dir, "q.csv", &canonical(&rows));
    let (obs, report) = ingest(&[p], &IngestOptions::default()).unwrap();
    let s = &obs.series[0];
    let pm = s.column(Variable::Pm25).unwrap();
    assert!(pm.flags[5].contains(QcFlags::OUT_OF_RANGE));
    assert_eq!(pm.values[5], -3.0, "flagged, not deleted");
    assert!(pm.flags[20].contains(QcFlags::SPIKE));
    let flagged_spikes: Vec<usize> = (0..72).filter(|i| pm.flags[*i].contains(QcFlags::SPIKE)).collect();
    assert_eq!(flagged_spikes, vec![20]);
    let temp = s.column(Variable::Temp).unwrap();
    assert!((30..58).all(|i| temp.flags[i].contains(QcFlags::FLATLINE)));
    assert!(!temp.flags[29].contains(QcFlags::FLATLINE) && !temp.flags[58].contains(QcFlags::FLATLINE));
    let counts = &report.stations[0].columns;
    assert_eq!((counts[0].out_of_range, counts[0].spike, counts[0].flatline, counts[1].flatline), (1, 1, 0, 28));
}

#[test]
fn malformed_files_name_the_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let bad_number = write(&dir, "n.csv", &canonical(&[("2026-01-01 00:00", "10,1"), ("2026-01-01 01:00", "1O,2")]));
    let e = ingest(&[bad_number], &IngestOptions::default()).unwrap_err();
    assert!(matches!(&e, IngestError::Parse { line: 3, column, .. } if column == "pm25"), "{e}");
    assert!(e.to_string().contains("n.csv"), "{e}");

    let bad_date = write(&dir, "t.csv", &canonical(&[("2026-02-30 00:00", "10,1")]));
    let e = ingest(&[bad_date], &IngestOptions::default()).unwrap_err();
    assert!(matches!(&e, IngestError::Parse { line: 2, column, .. } if column == "time"), "{e}");

    let uci = "No,year,month,day,hour,pm2.5,DEWP,TEMP,PRES,cbwd,Iws,Is,Ir\n1,2014,2,29,0,NA,-21,-11,1021,NW,1.79,0,0\n";
    let e = ingest(&[write(&dir, "u.csv", uci)], &IngestOptions::default()).unwrap_err();
    assert!(matches!(&e, IngestError::Parse { line: 2, column, .. } if column == "day"), "{e}");

    let no_pm = "time,station,temp\n2026-01-01 00:00,S1,1\n";
    let e = ingest(
        &[write(&dir, "m.csv", no_pm)],
        &IngestOptions { layout: Some(Layout::Canonical), ..Default::default() },
    )
    .unwrap_err();
    assert!(matches!(&e, IngestError::MissingColumn { column, .. } if column == "pm25"), "{e}");
}

#[test]
fn five_city_means_available_sites_or_selects_one() {
    let dir = tempfile::tempdir().unwrap();
    let text = "No,year,month,day,hour,season,PM_A,PM_US Post,DEWP,HUMI,PRES,TEMP,cbwd,Iws,precipitation,Iprec\n\
                1,2015,1,1,0,4,100,NA,-10,50,1020,0,NW,1.79,0,0\n\
                2,2015,1,1,1,4,100,200,-10,50,1020,0,NW,3.58,999990,999990\n";
    let p = write(&dir, "XianPM2015.csv", text);
    let (obs, report) = ingest(std::slice::from_ref(&p), &IngestOptions::default()).unwrap();
    let s = &obs.series[0];
    assert_eq!(s.station, "Xian");
    assert_eq!(s.column(Variable::Pm25).unwrap().values, vec![100.0, 150.0]);
    assert_eq!(s.column(Variable::Wspd).unwrap().values, vec![1.79, 1.79]);
    assert!(s.column(Variable::Precip).unwrap().values[1].is_nan());
    let precip = report.files[0].source_columns.iter().find(|c| c.column == "precipitation").unwrap();
    assert_eq!((precip.missing, precip.sentinel), (0, 1));

    let one = IngestOptions { station: Some("US Post".into()), ..Default::default() };
    let (obs, _) = ingest(std::slice::from_ref(&p), &one).unwrap();
    assert!(obs.series[0].column(Variable::Pm25).unwrap().values[0].is_nan());
    let e = ingest(&[p], &IngestOptions { station: Some("Nowhere".into()), ..Default::default() }).unwrap_err();
    assert!(e.to_string().contains("US Post"), "{e}");
}

#[test]
fn parquet_round_trips_the_canonical_table() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "a.csv", &canonical(&[("2026-01-01 00:00", "10,1"), ("2026-01-01 02:00", "NA,-2.5")]));
    let (obs, _) = ingest(&[p], &IngestOptions::default()).unwrap();
    let out = dir.path().join("a.parquet");
    crate::write_parquet(&obs, &out).unwrap();
    let (back, _) = ingest(&[out], &IngestOptions::default()).unwrap();
    assert_eq!(back.series[0].times, obs.series[0].times);
    for v in [Variable::Pm25, Variable::Temp] {
        let (a, b) = (&obs.series[0].column(v).unwrap().values, &back.series[0].column(v).unwrap().values);
        assert!(a.iter().zip(b).all(|(x, y)| x == y || (x.is_nan() && y.is_nan())), "{v:?}: {a:?} vs {b:?}");
    }
}

#[test]
fn daily_means_follow_the_validity_rules() {
    let dir = tempfile::tempdir().unwrap();
    // Day 1: 24 hours of PM2.5 = hour number (mean 11.5). Day 2: only 19 values (not valid).
    let mut s = String::from("time,station,pm25,o3\n");
    for h in 0..24 {
        s.push_str(&format!("2026-01-01 {h:02}:00,S1,{h},{}\n", if h < 12 { 50 } else { 150 }));
    }
    for h in 0..24 {
        let pm = if h < 19 { "10" } else { "NA" };
        s.push_str(&format!("2026-01-02 {h:02}:00,S1,{pm},NA\n"));
    }
    let (obs, _) = ingest(&[write(&dir, "d.csv", &s)], &IngestOptions::default()).unwrap();
    let days = crate::daily::daily_records(&obs.series[0]);
    assert_eq!(days.len(), 2);
    assert_eq!(days[0].concentrations.pm25, Some(11.5));
    // 8 h windows ending 07..23: the last ones hold only 150s.
    assert_eq!(days[0].concentrations.o3_8h, Some(150.0));
    assert_eq!(days[0].concentrations.o3_1h, Some(150.0));
    assert_eq!((days[1].pm25_hours, days[1].concentrations.pm25), (19, None));
    assert_eq!(days[1].concentrations.o3_8h, None);
}

#[test]
fn a_row_with_too_many_or_too_few_fields_names_the_expected_count() {
    let dir = tempfile::tempdir().unwrap();
    for (name, row, got) in [("many.csv", "2026-01-01 01:00,S1,10,1,9", 5), ("few.csv", "2026-01-01 01:00,S1,10", 3)] {
        let text = format!("time,station,pm25,temp\n2026-01-01 00:00,S1,10,1\n{row}\n");
        let e = ingest(&[write(&dir, name, &text)], &IngestOptions::default()).unwrap_err();
        assert!(matches!(&e, IngestError::Parse { line: 3, .. }), "{e}");
        assert!(e.to_string().ends_with(&format!("the row has {got} fields; the header has 4")), "{e}");
    }
}

#[test]
fn a_gbk_observation_file_is_named_as_gbk_not_garbled() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = b"time,station,pm25,temp\n2026-01-01 00:00,".to_vec();
    bytes.extend([0xE4, 0xF0, 0xBA, 0xD3]); // 漯河 in GBK
    bytes.extend(b",10,1\n");
    let p = dir.path().join("gbk.csv");
    std::fs::write(&p, bytes).unwrap();
    let e = ingest(&[p], &IngestOptions::default()).unwrap_err();
    assert!(matches!(&e, IngestError::Encoding { .. }), "{e}");
    assert!(e.to_string().contains("gbk.csv: not UTF-8 (looks like GBK, from line 2)"), "{e}");
}

/// Replays `fuzz/regressions/observations_csv/` (hand-made seeds and any crash `benches/fuzz.sh`
/// found): each is an error naming the file, never a panic.
#[test]
fn fuzz_regressions_of_the_observation_readers_are_errors_not_panics() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/observations_csv");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let r = crate::ingest_bytes(vec![(name.clone(), std::fs::read(&path).unwrap())], &IngestOptions::default());
        match r {
            Err(e) => assert!(e.to_string().starts_with(&name), "{name}: {e}"),
            Ok((obs, report)) => assert!(!obs.series.is_empty(), "{name}: {report:?}"),
        }
        n += 1;
    }
    assert!(n > 0, "{} holds no inputs", dir.display());
}
