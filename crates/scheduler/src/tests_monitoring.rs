//! The HJ 212 receiver over real TCP on loopback: frames split over writes and merged in one,
//! a wrong password, an unknown device, a bad CRC, garbage and a client that hangs up mid-frame;
//! what it stores and what it answers.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{City, Config, ManualClock};

/// The standard's CRC16, written here from its appendix for the frames this test builds.
fn crc(data: &[u8]) -> u16 {
    data.iter().fold(0xFFFFu16, |r, &b| {
        (0..8).fold((r >> 8) ^ u16::from(b), |c, _| if c & 1 == 1 { (c >> 1) ^ 0xA001 } else { c >> 1 })
    })
}

fn frame(segment: &str) -> String {
    format!("##{:04}{segment}{:04X}\r\n", segment.len(), crc(segment.as_bytes()))
}

fn upload(qn: &str, pw: &str, mn: &str, minute: u32, dust: f64) -> String {
    upload_at(qn, pw, mn, &format!("08{minute:02}"), dust)
}

/// An upload at `hhmm` on 2024-01-22, Beijing time.
fn upload_at(qn: &str, pw: &str, mn: &str, hhmm: &str, dust: f64) -> String {
    frame(&format!(
        "QN={qn};ST=31;CN=2011;PW={pw};MN={mn};Flag=5;CP=&&DataTime=20240122{hhmm}00;\
         a34013-Rtd={dust},a34013-Flag=N;a00000-Rtd=125000,a00000-Flag=N&&"
    ))
}

async fn city(dir: &std::path::Path) -> Arc<City> {
    let repo = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let text = format!(
        "[city]\nid = \"LH\"\nname = \"漯河市\"\n[store]\nurl = \"sqlite://hw.db\"\n[data]\nwork_dir = \"w\"\nmodel = \"m\"\n\
         list = \"{repo}/data/lists/luohe-illustrative.csv\"\ninventory = \"{repo}/data/lists/inventory-illustrative.csv\"\n\
         [[devices]]\nmn = \"LH0001\"\npassword = \"123456\"\ncredit_code = \"91411100MA4007919J\"\nline = \"1#生产线\"\n\
         outlet = \"DA001\"\ncodes = [\"a34013\", \"a00000\"]\n"
    );
    let config = Config::parse(&text, dir).unwrap();
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 1, 22, 0, 20, 0).unwrap());
    Arc::new(City::open(config, Arc::new(clock)).await.unwrap())
}

/// The next answer frame, or `None` if none comes within a short while.
async fn answer(s: &mut TcpStream) -> Option<String> {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match tokio::time::timeout(Duration::from_millis(300), s.read(&mut byte)).await {
            Ok(Ok(1)) => {
                got.push(byte[0]);
                if got.ends_with(b"\r\n") {
                    return Some(String::from_utf8(got).unwrap());
                }
            }
            _ => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_receiver_stores_and_answers_uploads_and_refuses_what_the_standard_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let city = city(dir.path()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let receiver = tokio::spawn(crate::monitoring::receive(city.clone(), listener));

    // Garbage, then a frame cut off by a client that hangs up: the listener lives on.
    let mut bad = TcpStream::connect(addr).await.unwrap();
    let first = upload("20240122081600001", "123456", "LH0001", 16, 6.48);
    let mut garbage = vec![0x00, 0xff, b'#'];
    garbage.extend_from_slice(&first.as_bytes()[..40]);
    bad.write_all(&garbage).await.unwrap();
    drop(bad);

    let mut s = TcpStream::connect(addr).await.unwrap();
    // Split over three writes.
    for part in [&first[..10], &first[10..70], &first[70..]] {
        s.write_all(part.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let a = answer(&mut s).await.expect("a 9014 answer");
    assert!(a.starts_with("##") && a.contains("QN=20240122081600001;ST=91;CN=9014;"), "{a}");
    // Two merged in one write: two answers.
    let (second, third) = (
        upload("20240122081700002", "123456", "LH0001", 17, 7.0),
        upload("20240122081800003", "123456", "LH0001", 18, 7.5),
    );
    s.write_all(format!("{second}{third}").as_bytes()).await.unwrap();
    assert!(answer(&mut s).await.unwrap().contains("QN=20240122081700002;"));
    assert!(answer(&mut s).await.unwrap().contains("QN=20240122081800003;"));
    // The same packet again (its answer was lost, say): answered, nothing added.
    s.write_all(first.as_bytes()).await.unwrap();
    assert!(answer(&mut s).await.unwrap().contains("CN=9014"));
    // A wrong password and an unknown device: the same 9011, QnRtn 3.
    s.write_all(upload("20240122081900004", "000000", "LH0001", 19, 9.9).as_bytes()).await.unwrap();
    let a = answer(&mut s).await.unwrap();
    assert!(a.contains("CN=9011;") && a.contains("QnRtn=3"), "{a}");
    s.write_all(upload("20240122081900005", "123456", "LH9999", 19, 9.9).as_bytes()).await.unwrap();
    assert!(answer(&mut s).await.unwrap().contains("QnRtn=3"));
    // Dated an hour ahead of the city's clock: refused, unanswered, nothing stored.
    s.write_all(upload_at("20240122092000007", "123456", "LH0001", "0920", 1.0).as_bytes()).await.unwrap();
    assert_eq!(answer(&mut s).await, None);
    // A bad CRC: no answer at all.
    let mut corrupt = upload("20240122082000006", "123456", "LH0001", 20, 9.9);
    corrupt.replace_range(corrupt.len() - 6..corrupt.len() - 2, "0000");
    s.write_all(corrupt.as_bytes()).await.unwrap();
    assert_eq!(answer(&mut s).await, None);

    let stored = city.store.readings_of("LH0001").await.unwrap();
    // Three uploads, two codes each; the refused and corrupt ones stored nothing.
    assert_eq!(stored.len(), 6, "{stored:?}");
    let dust: Vec<(String, Option<f64>, Option<String>)> =
        stored.iter().filter(|r| r.code == "a34013").map(|r| (r.data_time.clone(), r.value, r.flag.clone())).collect();
    assert_eq!(
        dust,
        [
            ("2024-01-22T08:16:00+08:00".to_owned(), Some(6.48), Some("N".to_owned())),
            ("2024-01-22T08:17:00+08:00".to_owned(), Some(7.0), Some("N".to_owned())),
            ("2024-01-22T08:18:00+08:00".to_owned(), Some(7.5), Some("N".to_owned())),
        ]
    );
    let counts = city.monitor_counts.snapshot();
    let lh = counts["LH0001"];
    assert_eq!((lh.packets, lh.stored, lh.refused, lh.bad_frames), (6, 6, 1, 2), "{counts:?}");
    assert!(counts.keys().all(|k| k == "LH0001" || k.starts_with("unlisted ")), "{counts:?}");
    assert!(!receiver.is_finished(), "the listener outlives bad clients");
    assert!(city.store.verify_audit().await.unwrap().ok());

    // The counts outlive the process: the bad frame's count reaches the store with the next
    // packet's commit, and a city opened again on the same store starts from them.
    s.write_all(upload("20240122082100008", "123456", "LH0001", 21, 8.0).as_bytes()).await.unwrap();
    assert!(answer(&mut s).await.unwrap().contains("CN=9014"));
    let after = hazewarn_store::monitoring::DeviceCounts { packets: lh.packets + 1, stored: lh.stored + 2, ..lh };
    assert_eq!(city.monitor_counts.snapshot()["LH0001"], after);
    assert_eq!(city.store.receiver_counts().await.unwrap()["LH0001"], after);
    receiver.abort();
    let again = self::city(dir.path()).await;
    assert_eq!(again.monitor_counts.snapshot()["LH0001"], after);
}
