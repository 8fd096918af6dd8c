use crate::common::{hazewarn, text};

#[test]
fn aqi_csv_contract_by_hand_computed_rows() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    let output = dir.path().join("out.csv");
    // Expected values worked out by hand from HJ 633 Table 1 (see the comments).
    std::fs::write(
        &input,
        "date,pm25,pm10,station\n\
         2026-02-28,75,150,A\n\
         2026-03-01,75,,B\n\
         2025-06-01,20,30,C\n\
         2024-12-20,260,200,D\n",
    )
    .unwrap();
    let o = hazewarn(&["aqi", "--input", input.to_str().unwrap(), "--output", output.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let out = std::fs::read_to_string(&output).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "date,pm25,pm10,station,aqi,level,category,primary_pollutants,standard");
    // 2012: PM2.5 75 and PM10 150 both sit on IAQI 100: a tie lists both.
    assert_eq!(lines[1], "2026-02-28,75,150,A,100,2,良,pm25;pm10,HJ 633-2012");
    // 2026: 75 lies between 60 and 115: 50/55 × 15 + 100 = 113.6 → 114.
    assert_eq!(lines[2], "2026-03-01,75,,B,114,3,轻度污染,pm25,HJ 633-2026");
    // AQI ≤ 50: no primary pollutant. PM2.5 20 → 50/35 × 20 = 28.6 → 29; PM10 30 → 30.
    assert_eq!(lines[3], "2025-06-01,20,30,C,30,1,优,,HJ 633-2012");
    // PM2.5 260 → 100/100 × 10 + 300 = 310.
    assert_eq!(lines[4], "2024-12-20,260,200,D,310,6,严重污染,pm25,HJ 633-2012");
}

#[test]
fn a_bad_row_names_the_row_and_column_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    let output = dir.path().join("out.csv");
    std::fs::write(&input, "date,pm25,so2\n2026-01-01,80,10\n2026-01-02,80,ten\n").unwrap();
    let o = hazewarn(&["aqi", "--input", input.to_str().unwrap(), "--output", output.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let msg = text(&o);
    assert!(msg.contains("line 3 (row 2)") && msg.contains("`so2`"), "{msg}");
    assert!(!output.exists());

    std::fs::write(&input, "date,pm25\n2026-02-30,80\n").unwrap();
    let o = hazewarn(&["aqi", "--input", input.to_str().unwrap(), "--output", output.to_str().unwrap()]);
    assert!(text(&o).contains("`date`"), "{}", text(&o));
}

#[test]
fn usage_errors_exit_with_2() {
    assert_eq!(hazewarn(&["aqi", "--input"]).status.code(), Some(2));
    assert_eq!(hazewarn(&["no-such-command"]).status.code(), Some(2));
    let help = hazewarn(&["ingest", "--help"]);
    assert!(help.status.success() && text(&help).contains("Examples:"));
}
