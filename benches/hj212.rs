//! HJ 212 parsing speed: cutting a stream of real-time uploads (six pollutants each, as a
//! flue-gas monitor sends them) into frames and decoding every one. The goal is 5,000
//! packets/s with storage; this measures the parsing share of it.
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

criterion_group!(benches, bench);
criterion_main!(benches);
