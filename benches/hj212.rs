//! HJ 212 speed: cutting a stream of real-time uploads (six pollutants each, as a flue-gas
//! monitor sends them) into frames and decoding every one; then the whole receiver path over
//! loopback TCP, where every upload is stored (SQLite, one transaction) before it is answered.
//! The goal is 5,000 packets/s parsed and stored: 10,000 devices every 2 minutes is 83/s.
//!
//! `cargo bench --bench hj212`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hazewarn_hj212::{Framed, Frames, Packet};

fn upload(k: usize) -> String {
    let mut p = Packet::decode(
        "##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80\r\n"
            .as_bytes(),
    )
    .unwrap();
    p.st = Some("31".into());
    p.cn = Some("2011".into());
    p.mn = Some(format!("LH{k:014}"));
    p.parameters.clear();
    for (n, code) in ["a34013", "a21026", "a21002", "a24088", "a00000", "a01012"].iter().enumerate() {
        let fields = [("Rtd", 10.0 + (k + n) as f64 * 0.37), ("ZsRtd", 11.5)]
            .into_iter()
            .map(|(f, v)| (f.to_owned(), hazewarn_hj212::Value::Number(v)))
            .chain([("Flag".to_owned(), hazewarn_hj212::Value::Text("N".into()))])
            .collect();
        p.values.insert((*code).to_owned(), fields);
    }
    p.encode().unwrap()
}

fn bench(c: &mut Criterion) {
    let stream: String = (0..1000).map(upload).collect();
    let mut g = c.benchmark_group("hj212");
    g.throughput(Throughput::Elements(1000));
    g.bench_function("frame and decode 1,000 real-time uploads", |b| {
        b.iter(|| {
            let mut f = Frames::new();
            let mut n = 0;
            for chunk in stream.as_bytes().chunks(1460) {
                f.push(chunk);
                while let Some(x) = f.next() {
                    if let Framed::Frame(bytes) = x {
                        Packet::decode(&bytes).unwrap();
                        n += 1;
                    }
                }
            }
            assert_eq!(n, 1000);
        })
    });
    g.finish();
}

/// The most devices listed; each run streams from some of them at once, each sending its
/// uploads one at a time and waiting for the answer.
const DEVICES: usize = 1000;

/// The receiver with `DEVICES` listed monitors, on a SQLite store in `dir`.
async fn city(dir: &std::path::Path) -> std::sync::Arc<hazewarn_scheduler::City> {
    let repo = env!("CARGO_MANIFEST_DIR");
    let mut text = format!(
        "[city]\nid = \"LH\"\nname = \"bench\"\n[store]\nurl = \"sqlite://hw.db\"\n[data]\nwork_dir = \"w\"\nmodel = \"m\"\n\
         list = \"{repo}/data/lists/luohe-illustrative.csv\"\ninventory = \"{repo}/data/lists/inventory-illustrative.csv\"\n"
    );
    for k in 0..DEVICES {
        text += &format!(
            "[[devices]]\nmn = \"LH{k:014}\"\npassword = \"100000\"\ncredit_code = \"91411100MA4007919J\"\nline = \"1#\"\n\
             codes = [\"a34013\", \"a21026\", \"a21002\", \"a24088\", \"a00000\", \"a01012\"]\n"
        );
    }
    let config = hazewarn_scheduler::Config::parse(&text, dir).expect("bench config");
    let clock = hazewarn_scheduler::ManualClock::new(chrono::Utc::now() + chrono::Duration::days(3650));
    std::sync::Arc::new(hazewarn_scheduler::City::open(config, std::sync::Arc::new(clock)).await.expect("city"))
}

/// One device's uploads, each a distinct minute so every one is new.
fn uploads(k: usize, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let mut p = Packet::decode(upload(k).as_bytes()).unwrap();
            let t = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap()
                + chrono::Duration::minutes(i as i64);
            p.data_time = Some(t.and_local_timezone(chrono::FixedOffset::east_opt(8 * 3600).unwrap()).unwrap());
            p.qn = Some(format!("{}{:03}", t.format("%Y%m%d%H%M%S"), k % 1000));
            p.flag = Some("5".into());
            p.encode().unwrap()
        })
        .collect()
}

/// `devices` devices over their own connections, all at once, `n` uploads each; returns packets
/// per second.
fn receive_and_store(devices: usize, n: usize) -> f64 {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let city = city(dir.path()).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(hazewarn_scheduler::monitoring::receive(city.clone(), listener));
        let streams: Vec<Vec<String>> = (0..devices).map(|k| uploads(k, n)).collect();
        let t0 = std::time::Instant::now();
        let mut tasks = Vec::new();
        for frames in streams {
            tasks.push(tokio::spawn(async move {
                let (read, mut write) = tokio::net::TcpStream::connect(addr).await.unwrap().into_split();
                let mut answers = BufReader::new(read).lines();
                for f in frames {
                    write.write_all(f.as_bytes()).await.unwrap();
                    let a = answers.next_line().await.unwrap().unwrap();
                    assert!(a.contains("CN=9014"), "{a}");
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let rate = (devices * n) as f64 / t0.elapsed().as_secs_f64();
        let stored: u64 = city.monitor_counts.snapshot().values().map(|c| c.stored).sum();
        assert_eq!(stored, (devices * n * 6 * 2) as u64, "two fields of six codes per upload, each stored once");
        rate
    })
}

fn stored(_: &mut Criterion) {
    for (devices, n) in [(50, 200), (1000, 10)] {
        let rate = receive_and_store(devices, n);
        println!(
            "hj212/receive, store and answer {} uploads from {devices} devices at once over loopback TCP (SQLite): {rate:.0} packets/s",
            devices * n
        );
    }
}

criterion_group!(benches, bench, stored);
criterion_main!(benches);
