//! `hazewarn hj212 decode` as an operator runs it on captured packets: one JSON object per valid
//! line, `{"line", "error"}` naming the field for an invalid one, exit 1 when any was invalid.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::common::{hazewarn, text};

/// The standard's own example frame (CRC 1C80).
const EXAMPLE: &str =
    "##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80";

/// The appendix's CRC16, for frames this test builds.
fn crc(data: &[u8]) -> u16 {
    data.iter().fold(0xFFFFu16, |r, &b| {
        (0..8).fold((r >> 8) ^ u16::from(b), |c, _| if c & 1 == 1 { (c >> 1) ^ 0xA001 } else { c >> 1 })
    })
}

fn frame(segment: &str) -> String {
    format!("##{:04}{segment}{:04X}", segment.len(), crc(segment.as_bytes()))
}

#[test]
fn hj212_decode_prints_each_packet_and_names_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let realtime = "QN=20240122081600123;ST=31;CN=2011;PW=123456;MN=LH01;Flag=4;\
                    CP=&&DataTime=20240122081600;a01012-Rtd=6.48,a01012-Flag=N&&";
    let bad_crc = format!("{}0000", &EXAMPLE[..EXAMPLE.len() - 4]);
    let lines = [EXAMPLE.to_owned(), String::new(), frame(realtime), bad_crc, frame(&realtime.replace("6.48", "x"))];
    let file = dir.path().join("captured.txt");
    std::fs::write(&file, lines.join("\r\n")).unwrap();
    let o = hazewarn(&["hj212", "decode", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out: Vec<serde_json::Value> =
        String::from_utf8(o.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(out.len(), 4, "the blank line is not a frame");
    assert_eq!(out[0]["cn"], "1062");
    assert_eq!(out[0]["values"], serde_json::json!({}));
    assert_eq!(out[0]["data_time"], serde_json::Value::Null);
    assert_eq!(out[0]["crc"], "1C80");
    assert_eq!(out[1]["data_time"], "2024-01-22T08:16:00+08:00");
    assert_eq!(out[1]["values"]["a01012"], serde_json::json!({"Rtd": 6.48, "Flag": "N"}));
    assert_eq!(out[1]["crc"], format!("{:04X}", crc(realtime.as_bytes())));
    assert_eq!(
        out[2],
        serde_json::json!({"line": 4, "error": "crc: the packet says 0000, the data segment's CRC16 is 1C80"})
    );
    assert_eq!(out[3]["line"], 5);
    assert!(out[3]["error"].as_str().unwrap().starts_with("CP a01012-Rtd: `x` is not a number"), "{}", out[3]);

    // From standard input, all valid: exit 0.
    let mut child = Command::new(env!("CARGO_BIN_EXE_hazewarn"))
        .args(["hj212", "decode", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{EXAMPLE}\n").as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    assert_eq!(String::from_utf8(o.stdout).unwrap().lines().count(), 1);
}
