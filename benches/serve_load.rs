//! Load on the API, as a bench binary: `GET /api/v1/notices` as an enterprise, from 32 keep-alive
//! connections for 10 s against `hazewarn serve`'s router on a local port (SQLite store, the
//! illustrative list, an orange warning in force). Prints requests/s and latency percentiles.
//!
//! `cargo bench --bench serve_load`

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{FixedOffset, TimeZone, Utc};
use hazewarn_response::WarningLevel;
use hazewarn_scheduler::{City, Config, Step, SystemClock};
use hazewarn_server::{AppState, router};
use hazewarn_store::users::{Role, User};

const CONNECTIONS: usize = 32;
const SECONDS: u64 = 10;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "[city]\nid = \"LH\"\nname = \"漯河市\"\n[store]\nurl = \"sqlite://hw.db\"\n[data]\nwork_dir = \"work\"\nmodel = \"model\"\n\
             list = \"{r}/data/lists/luohe-illustrative.csv\"\ninventory = \"{r}/data/lists/inventory-illustrative.csv\"\n",
            r = repo().display()
        );
        let city = City::open(Config::parse(&text, dir.path()).unwrap(), Arc::new(SystemClock)).await.unwrap();
        let (_, list) = city.list().await.unwrap();
        let code = list.enterprises[0].credit_code.as_str().to_owned();
        let user = User { name: "ent".into(), role: Role::Enterprise, credit_code: Some(code) };
        city.store.add_user(&user, "load-token", "bench", Utc::now()).await.unwrap();
        let bj = FixedOffset::east_opt(8 * 3600).unwrap();
        let step = Step::Issue {
            level: WarningLevel::Orange,
            start: bj.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap(),
            end: bj.with_ymd_and_hms(2026, 1, 8, 0, 0, 0).unwrap(),
        };
        city.apply(step, "office", "bench", "manual", Utc::now()).await.unwrap();

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/api/v1/notices", listener.local_addr().unwrap());
        // No rate limit here: this measures the handler, not the limiter.
        let app = router(AppState::new(Arc::new(city), u32::MAX));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let client = reqwest::Client::builder().pool_max_idle_per_host(CONNECTIONS).build().unwrap();
        let first = client.get(&url).bearer_auth("load-token").send().await.unwrap();
        assert_eq!(first.status(), 200);
        let body = first.text().await.unwrap();
        assert!(body.contains("\"notice\""), "the enterprise sees its notice");

        let deadline = Instant::now() + Duration::from_secs(SECONDS);
        let mut tasks = Vec::new();
        for _ in 0..CONNECTIONS {
            let (client, url) = (client.clone(), url.clone());
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let r = client.get(&url).bearer_auth("load-token").send().await.unwrap();
                    assert_eq!(r.status(), 200);
                    r.bytes().await.unwrap();
                    lat.push(t.elapsed());
                }
                lat
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all.sort();
        let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1000.0;
        println!(
            "GET /api/v1/notices as an enterprise, {CONNECTIONS} connections, {SECONDS} s: {} requests, {:.0} req/s; \
             latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} response bytes)",
            all.len(),
            all.len() as f64 / SECONDS as f64,
            pct(0.5),
            pct(0.99),
            pct(1.0),
            body.len()
        );
    });
}
