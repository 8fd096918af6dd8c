use serde_json::Value;

use crate::common::{hazewarn, shared_data, text};

/// Missing-value (NA) counts published in ../shared/data/README.md, per file and source column.
const README_MISSING: &[(&str, &[(&str, u64)])] = &[
    ("PRSA_data_2010.1.1-2014.12.31.csv.gz", &[("pm2.5", 2067), ("DEWP", 0), ("TEMP", 0), ("Iws", 0)]),
    (
        "BeijingPM20100101_20151231.csv.gz",
        &[
            ("PM_Dongsi", 27532),
            ("PM_Dongsihuan", 32076),
            ("PM_Nongzhanguan", 27653),
            ("PM_US Post", 2197),
            ("DEWP", 5),
            ("HUMI", 339),
            ("PRES", 339),
            ("TEMP", 5),
            ("cbwd", 5),
            ("Iws", 5),
            ("precipitation", 484),
            ("Iprec", 484),
        ],
    ),
];

/// The multi-site table of the README: PM2.5 PM10 SO2 NO2 CO O3 TEMP PRES DEWP RAIN wd WSPM.
const MULTISITE: &[(&str, [u64; 12])] = &[
    ("Aotizhongxin", [925, 718, 935, 1023, 1776, 1719, 20, 20, 20, 20, 81, 14]),
    ("Changping", [774, 582, 628, 667, 1521, 604, 53, 50, 53, 51, 140, 43]),
    ("Dingling", [779, 656, 730, 1234, 2012, 1214, 53, 50, 53, 51, 140, 43]),
    ("Dongsi", [750, 553, 663, 1601, 3197, 664, 20, 20, 20, 20, 78, 14]),
    ("Guanyuan", [616, 429, 474, 659, 1753, 1173, 20, 20, 20, 20, 81, 14]),
    ("Gucheng", [646, 381, 507, 668, 1401, 729, 51, 50, 51, 43, 159, 42]),
];
const MULTISITE_COLUMNS: [&str; 12] =
    ["PM2.5", "PM10", "SO2", "NO2", "CO", "O3", "TEMP", "PRES", "DEWP", "RAIN", "wd", "WSPM"];

#[test]
fn ingest_reads_all_eight_files_and_counts_missing_values_as_published() {
    let Some(data) = shared_data() else { return };
    let mut files: Vec<String> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "gz"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    assert_eq!(files.len(), 8);
    let out = tempfile::tempdir().unwrap();
    let mut args = vec!["ingest"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["--out", out.path().to_str().unwrap()]);
    let o = hazewarn(&args);
    assert!(o.status.success(), "{}", text(&o));
    assert!(out.path().join("observations.parquet").exists() && out.path().join("qc_summary.txt").exists());
    let report: Value = serde_json::from_slice(&std::fs::read(out.path().join("qc_report.json")).unwrap()).unwrap();

    let source_missing = |file: &str, column: &str| -> u64 {
        let f =
            report["files"].as_array().unwrap().iter().find(|f| f["file"].as_str().unwrap().ends_with(file)).unwrap();
        let c = f["source_columns"].as_array().unwrap().iter().find(|c| c["column"] == column).unwrap();
        c["missing"].as_u64().unwrap()
    };
    for (file, cols) in README_MISSING {
        for (col, want) in *cols {
            assert_eq!(source_missing(file, col), *want, "{file} {col}");
        }
    }
    for (station, counts) in MULTISITE {
        let file = format!("PRSA_Data_{station}_20130301-20170228.csv.gz");
        for (col, want) in MULTISITE_COLUMNS.iter().zip(counts) {
            assert_eq!(source_missing(&file, col), *want, "{station} {col}");
        }
        // The canonical columns carry the same counts as QC flags (wd: calm is not missing).
        let st = report["stations"].as_array().unwrap().iter().find(|s| s["station"] == *station).unwrap();
        let flagged = |c: &str| {
            st["columns"].as_array().unwrap().iter().find(|x| x["column"] == c).unwrap()["missing"].as_u64().unwrap()
        };
        assert_eq!((flagged("pm25"), flagged("co"), flagged("wdir")), (counts[0], counts[4], counts[10]), "{station}");
        assert_eq!(st["hours"], 35064);
    }
    // The five-city precipitation sentinel 999990 is counted apart from NA.
    let five = report["files"].as_array().unwrap().iter().find(|f| f["layout"] == "uci-5city").unwrap();
    let precip = five["source_columns"].as_array().unwrap().iter().find(|c| c["column"] == "precipitation").unwrap();
    assert_eq!(precip["sentinel"], 1);
    // PRSA: one station, gap-free, 43,824 hours.
    let prsa = report["stations"].as_array().unwrap().iter().find(|s| s["station"] == "PRSA").unwrap();
    assert_eq!((prsa["hours"].as_u64(), prsa["gaps"].as_array().unwrap().len()), (Some(43824), 0));
}

#[test]
fn five_city_station_option_selects_a_site() {
    let Some(data) = shared_data() else { return };
    let file = data.join("BeijingPM20100101_20151231.csv.gz");
    let out = tempfile::tempdir().unwrap();
    let o =
        hazewarn(&["ingest", file.to_str().unwrap(), "--station", "US Post", "--out", out.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let report: Value = serde_json::from_slice(&std::fs::read(out.path().join("qc_report.json")).unwrap()).unwrap();
    let st = &report["stations"][0];
    assert_eq!(st["station"], "Beijing US Post");
    assert_eq!(st["columns"][0]["missing"], 2197, "PM_US Post has 2,197 NA in the README");

    let o =
        hazewarn(&["ingest", file.to_str().unwrap(), "--station", "Nowhere", "--out", out.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("Dongsihuan"), "{}", text(&o));
}

#[test]
fn a_malformed_file_fails_whole_naming_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.csv");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&good, "time,station,pm25\n2026-01-01 00:00,A,10\n").unwrap();
    std::fs::write(&bad, "time,station,pm25\n2026-01-01 00:00,A,10\n2026-01-01 01:00,A,abc\n").unwrap();
    let out = dir.path().join("out");
    let o = hazewarn(&["ingest", good.to_str().unwrap(), bad.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let msg = text(&o);
    assert!(msg.contains("bad.csv") && msg.contains("line 3") && msg.contains("`pm25`"), "{msg}");
    assert!(!out.exists(), "a failed import writes nothing");
}

/// The raw multi-site files' PM2.5 per local hour, read straight from the CSVs ("NA" missing):
/// an independent computation of what the city mean must be.
fn raw_pm25_by_hour(files: &[std::path::PathBuf]) -> std::collections::BTreeMap<String, Vec<f64>> {
    let mut by_hour: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for f in files {
        let gz = flate2::read::GzDecoder::new(std::fs::File::open(f).unwrap());
        let mut r = csv::Reader::from_reader(gz);
        let h = r.headers().unwrap().clone();
        let col = |name: &str| h.iter().position(|c| c == name).unwrap();
        let (y, m, d, hr, pm) = (col("year"), col("month"), col("day"), col("hour"), col("PM2.5"));
        for rec in r.records() {
            let rec = rec.unwrap();
            let n = |i: usize| rec[i].parse::<u32>().unwrap();
            let key = format!("{:04}-{:02}-{:02} {:02}:00", n(y), n(m), n(d), n(hr));
            let slot = by_hour.entry(key).or_default();
            if &rec[pm] != "NA" {
                slot.push(rec[pm].parse().unwrap());
            }
        }
    }
    by_hour
}

#[test]
fn the_city_mean_of_the_six_multi_site_stations_matches_an_independent_computation() {
    let Some(data) = shared_data() else { return };
    let mut files: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("PRSA_Data_"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 6);
    let out = tempfile::tempdir().unwrap();
    let mut args = vec!["ingest".to_owned()];
    args.extend(files.iter().map(|p| p.display().to_string()));
    args.extend(["--city-mean", "--out"].map(str::to_owned));
    args.push(out.path().display().to_string());
    let o = hazewarn(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("city series of 6 stations"), "{}", text(&o));

    let expected = raw_pm25_by_hour(&files);
    let city = std::fs::read_to_string(out.path().join("city.csv")).unwrap();
    let counts = std::fs::read_to_string(out.path().join("city_stations.csv")).unwrap();
    let header: Vec<&str> = city.lines().next().unwrap().split(',').collect();
    let pm = header.iter().position(|c| *c == "pm25").unwrap();
    let (mut compared, mut partial) = (0, 0);
    for (row, count) in city.lines().skip(1).zip(counts.lines().skip(1)) {
        let cells: Vec<&str> = row.split(',').collect();
        let want = &expected[cells[0]];
        let n: usize = count.split(',').nth(1).unwrap().parse().unwrap();
        assert_eq!(n, want.len(), "{}: stations contributing", cells[0]);
        if want.is_empty() {
            assert_eq!(cells[pm], "", "{}: no station, no value", cells[0]);
            continue;
        }
        let mean = want.iter().sum::<f64>() / want.len() as f64;
        let got: f64 = cells[pm].parse().unwrap();
        assert!((got - mean).abs() < 1e-9, "{}: {got} against {mean}", cells[0]);
        compared += 1;
        partial += usize::from(want.len() < 6);
    }
    assert_eq!(city.lines().count() - 1, expected.len(), "one city row per hour of the files");
    let reported = expected.values().filter(|v| !v.is_empty()).count();
    assert_eq!(compared, reported, "every hour some station reported was compared");
    assert!(partial > 0, "the comparison includes hours with some stations missing");
}

/// The sample's four assessment stations are built so that their factors against the city field
/// average exactly one each hour; each station rounds to whole µg/m³, as does the single-station
/// file. So wherever all four and the single file have a clean value, the CLI's city mean lies
/// within 1 µg/m³ of `observations.csv`; where stations are out, the mean is of those reporting.
#[test]
fn the_sample_city_mean_of_the_national_files_is_the_city_series() {
    let sample = crate::common::repo().join("data/sample");
    let out = tempfile::tempdir().unwrap();
    let mut files: Vec<String> =
        std::fs::read_dir(sample.join("realtime")).unwrap().map(|e| e.unwrap().path().display().to_string()).collect();
    files.sort();
    let met = sample.join("met.csv.gz").display().to_string();
    let mut args: Vec<&str> = vec!["ingest"];
    args.extend(files.iter().map(String::as_str));
    let out_s = out.path().to_str().unwrap();
    args.extend(["--area", "示例市", "--city-mean", "--stations", "9001A,9002A,9003A,9004A", "--met-obs", &met]);
    args.extend(["--out", out_s]);
    let o = hazewarn(&args);
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("city series of 4 stations") && stdout.contains("5 hours with fewer than half"),
        "{stdout}"
    );
    assert!(stdout.contains("not averaged: 9005A"), "the reference point is read but not averaged: {stdout}");

    let read = |p: &std::path::Path| -> Vec<Vec<String>> {
        let mut r = csv::Reader::from_path(p).unwrap();
        let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
        let mut rows = vec![header];
        rows.extend(r.records().map(|x| x.unwrap().iter().map(str::to_owned).collect()));
        rows
    };
    let city = read(&out.path().join("city.csv"));
    let single = read(&sample.join("observations.csv"));
    let col = |rows: &[Vec<String>], name: &str| rows[0].iter().position(|h| h == name).unwrap();
    let (cpm, ctemp, spm, stemp) = (col(&city, "pm25"), col(&city, "temp"), col(&single, "pm25"), col(&single, "temp"));
    let counts = read(&out.path().join("city_stations.csv"));
    // The single file has one extra row (a duplicated hour) and five absent hours; index it by time.
    let by_time: std::collections::HashMap<String, &Vec<String>> =
        single[1..].iter().rev().map(|r| (r[0][..16].replace('T', " "), r)).collect();
    let (mut compared, mut worst) = (0, 0.0f64);
    for (row, n) in city[1..].iter().zip(&counts[1..]) {
        let Some(s) = by_time.get(&row[0]) else { continue };
        if n[1] != "4" || s[spm] == "NA" || s[spm] == "985" {
            continue;
        }
        let (c, v): (f64, f64) = (row[cpm].parse().unwrap(), s[spm].parse().unwrap());
        worst = worst.max((c - v).abs());
        compared += 1;
        // The weather station is the single file's meteorology, joined on the hour.
        assert_eq!(row[ctemp].parse::<f64>().unwrap(), s[stemp].parse::<f64>().unwrap(), "{}", row[0]);
    }
    assert!(compared > 18_000, "{compared} hours compared");
    assert!(worst <= 1.0 + 1e-9, "largest difference {worst}");
}
