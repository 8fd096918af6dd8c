//! The HJ 212 receiver of `hazewarn run`, killed with SIGKILL while a monitor streams to it and
//! restarted: every packet that was answered is stored, once.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hazewarn_store::Store;

use crate::cli_delivery::{rt, write_config};
use crate::common::repo;

/// The standard's CRC16, from its appendix.
fn crc(data: &[u8]) -> u16 {
    data.iter().fold(0xFFFFu16, |r, &b| {
        (0..8).fold((r >> 8) ^ u16::from(b), |c, _| if c & 1 == 1 { (c >> 1) ^ 0xA001 } else { c >> 1 })
    })
}

/// Upload `k`: second `k` of 4 January 2026 (before the test city's clock), asking for an answer.
fn upload(k: u32) -> String {
    let hms = format!("{:02}{:02}{:02}", k / 3600, k / 60 % 60, k % 60);
    let segment = format!(
        "QN=20260104{hms}{:03};ST=31;CN=2051;PW=123456;MN=LH0001;Flag=5;CP=&&DataTime=20260104{hms};\
         a34013-Avg={}.5,a34013-Flag=N;a00000-Avg=120000,a00000-Flag=N&&",
        k % 1000,
        k % 40
    );
    format!("##{:04}{segment}{:04X}\r\n", segment.len(), crc(segment.as_bytes()))
}

fn start_run(cfg: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_hazewarn"))
        .args(["run", "--config", cfg])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn connect(port: u16) -> (TcpStream, BufReader<TcpStream>) {
    let t0 = Instant::now();
    loop {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let r = BufReader::new(s.try_clone().unwrap());
            return (s, r);
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "the receiver did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends uploads from `from` on, each after the last was answered, until `until` or the
/// connection breaks; returns the uploads answered.
fn stream(port: u16, from: u32, until: u32) -> Vec<u32> {
    let (mut s, mut r) = connect(port);
    let mut answered = Vec::new();
    for k in from..until {
        if s.write_all(upload(k).as_bytes()).is_err() {
            break;
        }
        let mut line = String::new();
        match r.read_line(&mut line) {
            Ok(n) if n > 0 && line.contains("CN=9014") => answered.push(k),
            _ => break,
        }
    }
    answered
}

#[test]
fn sigkill_of_the_receiver_loses_no_answered_packet() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let extra = format!(
        "[monitoring]\nlisten = \"127.0.0.1:{port}\"\n[[devices]]\nmn = \"LH0001\"\npassword = \"123456\"\n\
         credit_code = \"91411100MA4007919J\"\nline = \"1#生产线\"\ncodes = [\"a34013\", \"a00000\"]\n"
    );
    let url = format!("sqlite://{}", dir.path().join("hw.db").display());
    let list = repo().join("data/lists/luohe-illustrative.csv");
    let config = write_config(dir.path(), &url, "http://127.0.0.1:9/", Path::new("unused"), &list, &extra);
    let cfg = config.to_str().unwrap();

    let mut first = start_run(cfg);
    let killer = {
        let pid = first.id();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(400));
            // SIGKILL while the monitor streams.
            Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap();
        })
    };
    // At most ten hours of seconds: far more than can be answered before the kill.
    let before = stream(port, 0, 36_000);
    killer.join().unwrap();
    first.wait().unwrap();
    assert!(!before.is_empty() && before.len() < 36_000, "the kill did not fall inside the stream; nothing was tested");
    let resume = before.last().unwrap() + 1;

    let mut second = start_run(cfg);
    let after = stream(port, resume, resume + 50);
    assert_eq!(after.len(), 50, "the restarted receiver answers");
    second.kill().unwrap();
    second.wait().unwrap();

    let store = rt().block_on(Store::connect(&url)).unwrap();
    let readings = rt().block_on(store.readings_of("LH0001")).unwrap();
    let stored: BTreeSet<String> = readings.iter().map(|r| r.data_time.clone()).collect();
    for k in before.iter().chain(&after) {
        let t = format!("2026-01-04T{:02}:{:02}:{:02}+08:00", k / 3600, k / 60 % 60, k % 60);
        assert!(stored.contains(&t), "upload {k} was answered but is not stored");
    }
    assert_eq!(readings.len(), 2 * stored.len(), "two codes per upload, each once");
    eprintln!("{} uploads answered before the kill, {} after the restart", before.len(), after.len());
}
