//! Route tests: the router called directly with `oneshot`, on a SQLite store in a temporary directory.

use std::path::Path;
use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use chrono::{TimeZone, Utc};
use hazewarn_ingest::QcFlags;
use hazewarn_scheduler::{City, Config, ManualClock};
use hazewarn_store::users::{Role, User};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::{AppState, router};

pub(crate) fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The first two enterprises of the illustrative list that curtail at orange.
pub(crate) const ENTERPRISE_A: &str = "91411100MA4007919J";

pub(crate) struct Fixture {
    pub _dir: tempfile::TempDir,
    pub state: AppState,
    pub clock: ManualClock,
}

/// Queues `n` notice messages `{prefix}0@hook`, `{prefix}1@hook`, … for a webhook, in one transaction.
pub(crate) async fn enqueue_hook_messages(
    store: &hazewarn_store::Store,
    prefix: &str,
    n: usize,
    now: chrono::DateTime<chrono::Utc>,
) {
    let mut tx = store.write().await.unwrap();
    for k in 0..n {
        let m = hazewarn_store::NewMessage {
            id: format!("{prefix}{k}@hook"),
            kind: "notice".into(),
            subject: format!("{prefix}{k}"),
            channel: "hook".into(),
            target: "https://hook.example/".into(),
            idempotency_key: format!("{prefix}{k}"),
            payload: "{}".into(),
            route_rank: None,
        };
        assert!(tx.enqueue(&m, now).await.unwrap());
    }
    tx.commit().await.unwrap();
}

pub(crate) async fn fixture(rate: u32) -> Fixture {
    fixture_with(rate, "").await
}

/// The fixture city with `extra` appended to its config.
pub(crate) async fn fixture_with(rate: u32, extra: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[city]\nid = \"LH\"\nname = \"漯河市\"\n[store]\nurl = \"sqlite://hw.db\"\n[data]\nwork_dir = \"work\"\nmodel = \"model\"\n\
         list = \"{r}/data/lists/luohe-illustrative.csv\"\ninventory = \"{r}/data/lists/inventory-illustrative.csv\"\n{extra}",
        r = repo().display()
    );
    let config = Config::parse(&text, dir.path()).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 1, 4, 8, 0, 0).unwrap();
    let clock = ManualClock::new(now);
    let city = City::open(config, Arc::new(clock.clone())).await.unwrap();
    let (_, list) = city.list().await.unwrap();
    let other = list.enterprises.iter().map(|e| e.credit_code.as_str().to_owned()).find(|c| c != ENTERPRISE_A).unwrap();
    let users = [
        ("fc", Role::Forecaster, None),
        ("office", Role::Office, None),
        ("ent-a", Role::Enterprise, Some(ENTERPRISE_A.to_owned())),
        ("ent-b", Role::Enterprise, Some(other)),
    ];
    for (name, role, code) in users {
        let user = User { name: name.into(), role, credit_code: code };
        city.store.add_user(&user, &format!("token-{name}"), "test", now).await.unwrap();
        // A browser session per user, as signing in would start one (the id is the test's).
        city.store.start_session(&format!("session-{name}"), name, now, chrono::Duration::hours(12)).await.unwrap();
    }
    Fixture { _dir: dir, state: AppState::new(Arc::new(city), rate), clock }
}

pub(crate) async fn call(
    f: &Fixture,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer token-{t}"));
    }
    let body = match body {
        Some(v) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let resp = router(f.state.clone()).oneshot(req.body(body).unwrap()).await.unwrap();
    let status = resp.status();
    let bytes = to_bytes(resp.into_body(), 1 << 24).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into())))
}

pub(crate) async fn issue_orange(f: &Fixture) -> Value {
    let body = json!({"step": "issue", "level": "orange", "start": "2026-01-05T00:00:00+08:00",
        "end": "2026-01-08T00:00:00+08:00", "reason": "会商后发布"});
    let (status, w) = call(f, "POST", "/api/v1/warnings", Some("office"), Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{w}");
    w
}

#[tokio::test]
async fn errors_are_json_with_a_code_and_the_right_status() {
    let f = fixture(1000).await;
    let (status, body) = call(&f, "GET", "/api/v1/notices", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthenticated");
    let (status, body) = call(&f, "GET", "/api/v1/notices", Some("nobody"), None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthenticated")));
    let (status, body) = call(&f, "GET", "/api/v1/no-such-thing", Some("office"), None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (status, body) =
        call(&f, "POST", "/api/v1/warnings", Some("office"), Some(json!({"step": "lift", "reason": "x"}))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["message"], "no warning is in force");
}

#[tokio::test]
async fn roles_are_checked_on_writes() {
    let f = fixture(1000).await;
    let issue = json!({"step": "issue", "level": "red", "start": "2026-01-05T00:00:00+08:00",
        "end": "2026-01-08T00:00:00+08:00", "reason": "x"});
    for who in ["fc", "ent-a"] {
        let (status, body) = call(&f, "POST", "/api/v1/warnings", Some(who), Some(issue.clone())).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {body}");
    }
    let (status, _) =
        call(&f, "POST", "/api/v1/forecasts/x/reviews", Some("office"), Some(json!({"action": "approve"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(f.state.city.store.warning_in_force().await.unwrap().is_none(), "a refused write changed nothing");
}

#[tokio::test]
async fn an_enterprise_sees_and_acknowledges_only_its_own_notices() {
    let f = fixture(1000).await;
    let w = issue_orange(&f).await;
    let (status, mine) = call(&f, "GET", "/api/v1/notices", Some("ent-a"), None).await;
    assert_eq!(status, StatusCode::OK);
    let mine = mine.as_array().unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["notice"]["credit_code"], ENTERPRISE_A);
    let id = mine[0]["notice"]["id"].as_str().unwrap().to_owned();

    // Another enterprise's token learns nothing: not found, exactly as for a notice that does not exist.
    let (status, body) = call(&f, "GET", &format!("/api/v1/notices/{id}"), Some("ent-b"), None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (missing_status, missing) = call(&f, "GET", "/api/v1/notices/LH-00000000-1-X", Some("ent-b"), None).await;
    assert_eq!((missing_status, &missing), (status, &body));
    let (status, _) = call(&f, "POST", &format!("/api/v1/notices/{id}/ack"), Some("ent-b"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(f.state.city.store.notice(&id).await.unwrap().unwrap().acknowledged_at.is_none());

    let (status, acked) = call(&f, "POST", &format!("/api/v1/notices/{id}/ack"), Some("ent-a"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(acked["acknowledged_by"], "ent-a");
    // The office sees every notice of the warning and who acknowledged.
    let (_, rows) = call(&f, "GET", "/api/v1/deliveries", Some("office"), None).await;
    let rows = rows.as_array().unwrap();
    let all = f.state.city.store.notices_of(w["id"].as_str().unwrap(), None).await.unwrap();
    assert!(all.len() > 1);
    assert_eq!(rows.len(), all.len());
    assert_eq!(rows.iter().filter(|r| !r["acknowledged_at"].is_null()).count(), 1);
}

#[tokio::test]
async fn an_invalid_list_upload_changes_nothing_and_a_valid_one_is_a_new_version() {
    let f = fixture(1000).await;
    let before = f.state.city.store.latest_list().await.unwrap().unwrap().0;
    let good = std::fs::read(repo().join("data/lists/luohe-illustrative.csv")).unwrap();
    let mut bad = String::from_utf8(good.clone()).unwrap();
    bad = bad.replacen("91411100MA4007919J", "91411100MA4007919X", 1); // a wrong check digit
    let upload = |bytes: Vec<u8>| {
        Request::builder()
            .method("POST")
            .uri("/api/v1/lists?name=list.csv")
            .header(header::AUTHORIZATION, "Bearer token-office")
            .body(Body::from(bytes))
            .unwrap()
    };
    let resp = router(f.state.clone()).oneshot(upload(bad.into_bytes())).await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = serde_json::from_slice(&to_bytes(resp.into_body(), 1 << 20).await.unwrap()).unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("nothing was imported"), "{body}");
    assert_eq!(f.state.city.store.latest_list().await.unwrap().unwrap().0, before);
    // The file in use already is recognised, not imported again as a new version.
    let resp = router(f.state.clone()).oneshot(upload(good.clone())).await.unwrap();
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(f.state.city.store.latest_list().await.unwrap().unwrap().0, before);
    let changed = String::from_utf8(good).unwrap().replacen("\n", "\n\n", 1); // a blank row: the same list, another file
    let resp = router(f.state.clone()).oneshot(upload(changed.into_bytes())).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(f.state.city.store.latest_list().await.unwrap().unwrap().0, before + 1);
    // Bodies over the limit are refused before they are read.
    let resp = router(f.state.clone()).oneshot(upload(vec![b'x'; crate::MAX_BODY_BYTES + 1])).await.unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn the_public_sees_the_warning_its_cap_alert_and_feed_without_a_token() {
    let f = fixture(1000).await;
    let (_, cur) = call(&f, "GET", "/api/v1/public/current", None, None).await;
    assert!(cur["warning"].is_null());
    assert!(cur["observed"].is_null(), "no city series yet");
    // The city series as the cycle writes it: the last hour with PM2.5 is 07:00 at 160 µg/m³.
    let t0 = chrono::NaiveDate::from_ymd_opt(2026, 1, 4).unwrap().and_hms_opt(6, 0, 0).unwrap();
    let pm = [120.0, 160.0, f64::NAN];
    let series = hazewarn_ingest::StationSeries {
        station: "LH".into(),
        times: (0..3).map(|k| t0 + chrono::Duration::hours(k)).collect(),
        columns: vec![hazewarn_ingest::Column {
            variable: hazewarn_ingest::Variable::Pm25,
            values: pm.to_vec(),
            flags: pm.iter().map(|v| if v.is_nan() { QcFlags::MISSING } else { QcFlags::default() }).collect(),
        }],
    };
    let work = &f.state.city.config.data.work_dir;
    std::fs::create_dir_all(work).unwrap();
    let obs = hazewarn_ingest::Observations { series: vec![series] };
    hazewarn_ingest::write_parquet(&obs, &work.join("city.parquet")).unwrap();
    let (_, cur) = call(&f, "GET", "/api/v1/public/current", None, None).await;
    // HJ 633 real-time report: PM2.5 160 in 150–250 → IAQI 200 + 10 = 210, 重度污染 (#99004C).
    assert_eq!(cur["observed"]["aqi"], 210, "{cur}");
    assert_eq!(cur["observed"]["time"], "2026-01-04T07:00:00");
    assert_eq!(cur["observed"]["primary"], json!(["PM2.5"]));
    let (_, page) = call(&f, "GET", "/", None, None).await;
    assert!(page.as_str().unwrap().contains("background:#99004C;color:#fff\">AQI 210 重度污染"), "{page}");
    let w = issue_orange(&f).await;
    let (status, cur) = call(&f, "GET", "/api/v1/public/current", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cur["warning"]["level"], "orange");
    assert_eq!(cur["warning"]["id"], w["id"]);
    // The public is told what the profile asks at orange (national-2024's illustrative measures).
    let (_, page) = call(&f, "GET", "/", None, None).await;
    let page = page.as_str().unwrap();
    assert!(
        page.contains("<h3>强制性措施</h3>") && page.contains("国四及以下排放标准重型载货车辆按交通管控要求限行。"),
        "{page}"
    );
    let (_, page) = call(&f, "GET", "/?lang=en", None, None).await;
    assert!(page.as_str().unwrap().contains("<li>Schools and kindergartens stop outdoor activities.</li>"));
    let (status, cap) = call(&f, "GET", "/cap.xml", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let cap = cap.as_str().unwrap();
    assert!(
        cap.contains("<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"")
            && cap.contains("<msgType>Alert</msgType>"),
        "{cap}"
    );
    let (_, feed) = call(&f, "GET", "/feed.atom", None, None).await;
    assert_eq!(feed.as_str().unwrap().matches("<entry>").count(), 1);
    let (status, page) = call(&f, "GET", "/?lang=en", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.as_str().unwrap().contains("orange warning"), "{page}");
}

#[tokio::test]
async fn requests_over_the_rate_are_refused() {
    let f = fixture(5).await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(call(&f, "GET", "/api/v1/notices", Some("ent-a"), None).await.0);
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 5);
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS));
}

#[tokio::test]
async fn pages_render_for_each_role_and_ask_for_a_token_otherwise() {
    let f = fixture(1000).await;
    issue_orange(&f).await;
    let get = |uri: &str, token: Option<&str>| {
        let mut r = Request::builder().uri(uri);
        if let Some(t) = token {
            r = r.header(header::COOKIE, format!("hw_session=session-{t}"));
        }
        r.body(Body::empty()).unwrap()
    };
    let resp = router(f.state.clone()).oneshot(get("/office", None)).await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let resp = router(f.state.clone()).oneshot(get("/office", Some("office"))).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let html = String::from_utf8(to_bytes(resp.into_body(), 1 << 24).await.unwrap().to_vec()).unwrap();
    assert!(html.contains("减排方案") && html.contains("id=\"totals\"") && html.contains("id=\"deliveries\""));
    let resp = router(f.state.clone()).oneshot(get("/enterprise?lang=en", Some("ent-a"))).await.unwrap();
    let html = String::from_utf8(to_bytes(resp.into_body(), 1 << 24).await.unwrap().to_vec()).unwrap();
    assert!(html.contains("id=\"ack\"") && html.contains(&format!("-1-{ENTERPRISE_A}")), "{html}");
    let resp = router(f.state.clone()).oneshot(get("/office", Some("ent-a"))).await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_openapi_document_lists_routes_that_exist() {
    let f = fixture(1000).await;
    let (status, doc) = call(&f, "GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 12, "{}", paths.len());
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            let uri = path.replace("{id}", "x");
            let (status, body) = call(&f, &method.to_uppercase(), &uri, None, None).await;
            // Without a token every documented route answers: public ones, or 401 — never "no such route".
            assert!(status == StatusCode::OK || status == StatusCode::UNAUTHORIZED, "{method} {uri}: {status} {body}");
        }
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    // Every operation says in a line what it does.
    let mut unnamed = Vec::new();
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            if op["summary"].as_str().is_none_or(|s| s.trim().is_empty()) {
                unnamed.push(format!("{method} {path}"));
            }
        }
    }
    assert!(unnamed.is_empty(), "operations without a summary: {unnamed:?}");
}

#[tokio::test]
async fn the_office_page_upload_shows_an_error_table_and_imports_nothing() {
    let f = fixture(1000).await;
    let before = f.state.city.store.latest_list().await.unwrap().unwrap().0;
    let good = std::fs::read_to_string(repo().join("data/lists/luohe-illustrative.csv")).unwrap();
    let bad = good.replacen("91411100MA4007919J", "91411100MA4007919X", 1);
    let body = format!(
        "--B0UNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"2026清单.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{bad}\r\n--B0UNDARY--\r\n"
    );
    let req = Request::builder()
        .method("POST")
        .uri(format!("/office/list-file?csrf={}", crate::auth::csrf_of("session-office")))
        .header(header::COOKIE, "hw_session=session-office")
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=B0UNDARY")
        .body(Body::from(body))
        .unwrap();
    let resp = router(f.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = String::from_utf8(to_bytes(resp.into_body(), 1 << 24).await.unwrap().to_vec()).unwrap();
    assert!(html.contains("id=\"list-errors\"") && html.contains("2026清单.csv"), "{html}");
    assert!(html.contains("统一社会信用代码"), "the error row names the column by its Chinese header: {html}");
    assert_eq!(f.state.city.store.latest_list().await.unwrap().unwrap().0, before);
}
