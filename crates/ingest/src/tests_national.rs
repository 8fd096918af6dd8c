//! The national layouts, on fixtures written here: header order shuffled, a BOM, CRLF line
//! ends, empty and dashed cells, a station of another city, and an hour given twice.

use crate::met::{ingest_met, join_met};
use crate::{IngestError, IngestOptions, Layout, QcConfig, QcFlags, Variable, ingest_bytes};

fn crlf(lines: &[&str]) -> Vec<u8> {
    let mut s = String::from("\u{feff}");
    for l in lines {
        s.push_str(l);
        s.push_str("\r\n");
    }
    s.into_bytes()
}

/// Columns in a different order from the release's, and the derived ones among them.
const REALTIME_HEADER: &str = "area,stationcode,timepoint,pm2_5,pm10,so2,no2,o3,co,aqi,pm2_5_24h,\
     positionname,longitude,latitude,primarypollutant,pm10_24h,o3_24h,o3_8h,o3_8h_24h,no2_24h,so2_24h,co_24h";

fn realtime_row(area: &str, code: &str, time: &str, values: &str) -> String {
    format!("{area},{code},{time},{values},55,75,测站,114.0,33.6,PM2.5,,,,,,,")
}

fn realtime_fixture() -> Vec<u8> {
    let rows = [
        REALTIME_HEADER.to_owned(),
        realtime_row("漯河市", "1001A", "2024-01-15 08:00:00", "75,110,12,40,20,1.2"),
        realtime_row("漯河市", "1002A", "2024-01-15 08:00:00", ",98,—,38,22,1.0"),
        realtime_row("郑州市", "2001A", "2024-01-15 08:00:00", "90,130,15,50,18,1.4"),
        realtime_row("漯河市", "1001A", "2024-01-15 09:00:00", "80,115,13,42,25,1.3"),
        realtime_row("漯河市", "1002A", "2024-01-15 09:00:00", "70,100,11,36,27,0.9"),
        // 1001A at 09:00 again, with another PM2.5.
        realtime_row("漯河市", "1001A", "2024-01-15 09:00:00", "84,115,13,42,25,1.3"),
    ];
    let lines: Vec<&str> = rows.iter().map(String::as_str).collect();
    crlf(&lines)
}

fn by_city(city: &str) -> IngestOptions {
    IngestOptions { area: Some(city.into()), ..Default::default() }
}

#[test]
fn realtime_release_reads_the_city_stations_exactly() {
    let (obs, report) = ingest_bytes(vec![("rt.csv".into(), realtime_fixture())], &by_city("漯河市")).unwrap();
    assert_eq!(report.files[0].layout, Layout::CnRealtime);
    let names: Vec<&str> = obs.series.iter().map(|s| s.station.as_str()).collect();
    assert_eq!(names, ["1001A", "1002A"]);
    assert_eq!(report.files[0].outside_rows, 1, "the Zhengzhou row is counted, not read");
    let a = obs.station("1001A").unwrap();
    assert_eq!(a.column(Variable::Pm25).unwrap().values, [75.0, 80.0]);
    assert_eq!(a.column(Variable::Co).unwrap().values, [1.2, 1.3]);
    assert_eq!(a.column(Variable::O3).unwrap().values, [20.0, 25.0]);
    let b = obs.station("1002A").unwrap();
    let pm = b.column(Variable::Pm25).unwrap();
    assert!(pm.values[0].is_nan() && pm.flags[0].contains(QcFlags::MISSING));
    assert_eq!(pm.values[1], 70.0);
    let so2 = b.column(Variable::So2).unwrap();
    assert!(so2.values[0].is_nan() && so2.flags[0].contains(QcFlags::MISSING), "a dash is missing");
    // The repeated hour keeps the first value and names both lines (header is line 1).
    let d = &report.stations[0].duplicates[0];
    assert_eq!((d.kept.as_str(), d.dropped.as_slice()), ("rt.csv:5", &["rt.csv:7".to_owned()][..]));
    assert_eq!(d.conflicting, ["pm25"]);
    let pm_src = report.files[0].source_columns.iter().find(|c| c.column == "pm2_5").unwrap();
    assert_eq!(pm_src.missing, 1);
}

#[test]
fn realtime_release_by_station_code_and_city() {
    let codes = Some(vec!["1002A".to_owned()]);
    let only = IngestOptions { codes: codes.clone(), ..Default::default() };
    let (obs, report) = ingest_bytes(vec![("rt.csv".into(), realtime_fixture())], &only).unwrap();
    assert_eq!(obs.series.len(), 1);
    assert_eq!(obs.series[0].station, "1002A");
    assert_eq!(report.files[0].outside_rows, 4);
    // A listed station whose row names another city is a configuration error, not a silent read.
    let wrong =
        IngestOptions { codes: Some(vec!["2001A".into()]), area: Some("漯河市".into()), ..Default::default() };
    match ingest_bytes(vec![("rt.csv".into(), realtime_fixture())], &wrong).unwrap_err() {
        IngestError::Parse { file, line, column, message } => {
            assert_eq!((file.as_str(), line, column.as_str()), ("rt.csv", 4, "area"));
            assert!(message.contains("2001A") && message.contains("郑州市"), "{message}");
        }
        other => panic!("{other}"),
    }
}

#[test]
fn realtime_release_errors_name_file_line_and_column() {
    let mut bytes = realtime_fixture();
    bytes.extend(realtime_row("漯河市", "1001A", "2024-01-15 10:00:00", "8O,1,1,1,1,1").as_bytes());
    match ingest_bytes(vec![("rt.csv".into(), bytes)], &by_city("漯河市")).unwrap_err() {
        IngestError::Parse { line, column, message, .. } => {
            assert_eq!((line, column.as_str()), (8, "pm2_5"));
            assert!(message.contains("8O"), "{message}");
        }
        other => panic!("{other}"),
    }
    let half_hour = crlf(&[REALTIME_HEADER, &realtime_row("漯河市", "1001A", "2024-01-15 08:30:00", "1,1,1,1,1,1")]);
    let e = ingest_bytes(vec![("rt.csv".into(), half_hour)], &by_city("漯河市")).unwrap_err();
    assert!(e.to_string().contains("line 2, column `timepoint`") && e.to_string().contains("on the hour"), "{e}");
}

fn archive_fixture() -> Vec<u8> {
    crlf(&[
        "type,1002A,date,1001A,hour,9999A",
        "AQI,60,20240115,101,8,50",
        "PM2.5,40,20240115,75,8,30",
        "PM2.5_24h,41,20240115,70,8,31",
        "PM10,60,20240115,110,8,50",
        "CO,0.8,20240115,1.2,8,0.5",
        "PM2.5,,20240115,80,9,31",
        "PM10,—,20240115,115,9,51",
        // PM2.5 at 09:00 again: 1001A differs, 1002A is still empty.
        "PM2.5,,20240115,86,9,31",
    ])
}

#[test]
fn station_archive_reads_each_station_column() {
    let codes = IngestOptions { codes: Some(vec!["1001A".into(), "1002A".into()]), ..Default::default() };
    let (obs, report) = ingest_bytes(vec![("20240115.csv".into(), archive_fixture())], &codes).unwrap();
    assert_eq!(report.files[0].layout, Layout::CnArchive);
    let names: Vec<&str> = obs.series.iter().map(|s| s.station.as_str()).collect();
    assert_eq!(names, ["1002A", "1001A"], "stations in header order; 9999A was not asked for");
    let a = obs.station("1001A").unwrap();
    assert_eq!(a.times[0].to_string(), "2024-01-15 08:00:00");
    assert_eq!(a.column(Variable::Pm25).unwrap().values, [75.0, 80.0]);
    assert_eq!(a.column(Variable::Pm10).unwrap().values, [110.0, 115.0]);
    let co = a.column(Variable::Co).unwrap();
    assert_eq!(co.values[0], 1.2);
    assert!(co.flags[1].contains(QcFlags::MISSING), "no CO row for 09:00");
    let b = obs.station("1002A").unwrap();
    let pm10 = b.column(Variable::Pm10).unwrap();
    assert!(pm10.values[1].is_nan() && pm10.flags[1].contains(QcFlags::MISSING));
    let a_report = report.stations.iter().find(|s| s.station == "1001A").unwrap();
    let d = &a_report.duplicates[0];
    assert_eq!(d.time.to_string(), "2024-01-15 09:00:00");
    assert_eq!((d.kept.as_str(), d.dropped.as_slice()), ("20240115.csv:7", &["20240115.csv:9".to_owned()][..]));
    assert_eq!(d.conflicting, ["pm25"]);
    // 1002A's repeated PM2.5 agreed (both empty), so it is a duplicate without a conflict.
    let b_report = report.stations.iter().find(|s| s.station == "1002A").unwrap();
    assert!(b_report.duplicates[0].conflicting.is_empty());
}

#[test]
fn a_repeated_archive_row_names_the_first_row_of_its_own_pollutant() {
    let bytes = crlf(&["date,hour,type,1001A", "20240115,8,PM2.5,75", "20240115,8,PM10,110", "20240115,8,PM10,120"]);
    let (obs, report) = ingest_bytes(vec![("a.csv".into(), bytes)], &IngestOptions::default()).unwrap();
    assert_eq!(obs.series[0].column(Variable::Pm10).unwrap().values, [110.0]);
    let d = &report.stations[0].duplicates[0];
    assert_eq!((d.kept.as_str(), d.dropped.as_slice()), ("a.csv:3", &["a.csv:4".to_owned()][..]));
    assert_eq!(d.conflicting, ["pm10"]);
    // The AQI and running-mean rows are checked but are not missing data of the station.
    let bytes = crlf(&["date,hour,type,1001A", "20240115,8,PM2.5,75", "20240115,8,AQI,", "20240115,8,PM2.5_24h,—"]);
    let (_, report) = ingest_bytes(vec![("a.csv".into(), bytes)], &IngestOptions::default()).unwrap();
    assert_eq!(report.files[0].source_columns.iter().find(|c| c.column == "1001A").unwrap().missing, 0);
    let bytes = crlf(&["date,hour,type,1001A", "20240115,8,AQI,high"]);
    let e = ingest_bytes(vec![("a.csv".into(), bytes)], &IngestOptions::default()).unwrap_err();
    assert!(e.to_string().contains("line 2, column `1001A`: `high` is not a number"), "{e}");
}

#[test]
fn the_archive_cannot_be_selected_by_city_and_a_header_may_not_repeat_a_station() {
    let e = ingest_bytes(vec![("a.csv".into(), archive_fixture())], &by_city("漯河市")).unwrap_err();
    assert!(e.to_string().contains("column `area`: the station archive has no area column"), "{e}");
    let twice = crlf(&["date,hour,type,1001A,1002A,1001A", "20240115,8,PM2.5,1,2,3"]);
    let e = ingest_bytes(vec![("a.csv".into(), twice)], &IngestOptions::default()).unwrap_err();
    assert!(e.to_string().contains("line 1, column `1001A`: the header names `1001A` twice (columns 4 and 6)"), "{e}");
}

#[test]
fn station_archive_errors_name_file_line_and_column() {
    let mut bytes = archive_fixture();
    bytes.extend(b"PM1,1,20240115,1,10,1\r\n");
    let e = ingest_bytes(vec![("a.csv".into(), bytes)], &IngestOptions::default()).unwrap_err();
    assert!(e.to_string().starts_with("a.csv: line 10, column `type`: `PM1`"), "{e}");
    let bad_date = crlf(&["date,hour,type,1001A", "2024-13-01,0,PM2.5,1"]);
    let e = ingest_bytes(vec![("a.csv".into(), bad_date)], &IngestOptions::default()).unwrap_err();
    assert!(e.to_string().contains("line 2, column `date`"), "{e}");
    let bad_hour = crlf(&["date,hour,type,1001A", "20240101,24,PM2.5,1"]);
    let e = ingest_bytes(vec![("a.csv".into(), bad_hour)], &IngestOptions::default()).unwrap_err();
    assert!(e.to_string().contains("line 2, column `hour`"), "{e}");
}

#[test]
fn a_weather_station_table_is_joined_on_the_hour() {
    let dir = tempfile::tempdir().unwrap();
    let met_file = dir.path().join("met.csv");
    // 08:00 and 10:00 only: 09:00 is a gap in the weather record.
    std::fs::write(
        &met_file,
        "time,station,temp,wspd,wdir\n2024-01-15 08:00,WX,-1.5,2.0,45\n2024-01-15 10:00,WX,0.5,3.0,90\n",
    )
    .unwrap();
    let (met, _) = ingest_met(&[&met_file], &QcConfig::default()).unwrap();
    assert!(met.column(Variable::Pm25).is_none());
    let (obs, _) = ingest_bytes(vec![("rt.csv".into(), realtime_fixture())], &by_city("漯河市")).unwrap();
    let joined = join_met(obs.station("1001A").unwrap(), &met);
    let temp = joined.column(Variable::Temp).unwrap();
    assert_eq!(temp.values[0], -1.5);
    assert!(temp.values[1].is_nan() && temp.flags[1].contains(QcFlags::GAP));
    assert_eq!(joined.column(Variable::Wdir).unwrap().values[0], 45.0);
    assert_eq!(joined.column(Variable::Pm25).unwrap().values, [75.0, 80.0], "pollutants untouched");
    // A weather record that starts before the series and ends inside it.
    std::fs::write(
        &met_file,
        "time,station,temp\n2024-01-15 06:00,WX,-3\n2024-01-15 07:00,WX,-2\n2024-01-15 08:00,WX,-1\n",
    )
    .unwrap();
    let (met, _) = ingest_met(&[&met_file], &QcConfig::default()).unwrap();
    let joined = join_met(obs.station("1001A").unwrap(), &met);
    let temp = joined.column(Variable::Temp).unwrap();
    assert_eq!(temp.values[0], -1.0, "08:00 is the third weather hour");
    assert!(temp.values[1].is_nan() && temp.flags[1].contains(QcFlags::GAP), "09:00 is past its end");
    // One that starts after the series does.
    std::fs::write(&met_file, "time,station,temp\n2024-01-15 09:00,WX,4\n").unwrap();
    let (met, _) = ingest_met(&[&met_file], &QcConfig::default()).unwrap();
    let temp = join_met(obs.station("1001A").unwrap(), &met).column(Variable::Temp).unwrap().clone();
    assert!(temp.flags[0].contains(QcFlags::GAP));
    assert_eq!(temp.values[1], 4.0);

    std::fs::write(&met_file, "time,station,temp,pm25\n2024-01-15 08:00,WX,1,2\n").unwrap();
    let e = ingest_met(&[&met_file], &QcConfig::default()).unwrap_err();
    assert!(e.to_string().contains("column `pm25`") && e.to_string().contains("no pollutant"), "{e}");
    std::fs::write(&met_file, "time,station,temp\n2024-01-15 08:00,WX,1\n2024-01-15 08:00,WY,2\n").unwrap();
    let e = ingest_met(&[&met_file], &QcConfig::default()).unwrap_err();
    assert!(e.to_string().contains("one weather station; found WX, WY"), "{e}");
}
