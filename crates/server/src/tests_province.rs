//! The province's routes and a city's advisory routes, with `oneshot`: the province issues, one
//! city follows, one justifies, one does not answer by its deadline; roles stay at their level.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use chrono::{Duration, TimeZone, Utc};
use hazewarn_scheduler::{ManualClock, Province, ProvinceConfig};
use hazewarn_store::users::{Role, User};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::province_view::{ProvinceState, province_router};
use crate::{AppState, router};

const CITIES: [(&str, &str); 3] = [("luohe", "漯河市"), ("xuchang", "许昌市"), ("zhoukou", "周口市")];

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

struct Fixture {
    _dir: tempfile::TempDir,
    clock: ManualClock,
    province: Arc<Province>,
}

impl Fixture {
    fn province_app(&self) -> Router {
        province_router(ProvinceState::new(self.province.clone(), 100, 100))
    }
    fn city_app(&self, id: &str) -> Router {
        let city = self.province.city(id).unwrap().clone();
        router(AppState::new(city, 100).in_province(self.province.clone()))
    }
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut listed = String::new();
    for (id, name) in CITIES {
        std::fs::create_dir_all(dir.path().join(id)).unwrap();
        let text = format!(
            "[city]\nid = \"{id}\"\nname = \"{name}\"\n[store]\nurl = \"sqlite://hw.db\"\n[data]\nwork_dir = \"work\"\nmodel = \"model\"\n\
             list = \"{r}/data/lists/luohe-illustrative.csv\"\ninventory = \"{r}/data/lists/inventory-illustrative.csv\"\n\
             [[channels]]\nkind = \"file-drop\"\nname = \"files\"\ndir = \"drop\"\n",
            r = repo().display()
        );
        std::fs::write(dir.path().join(id).join("city.toml"), text).unwrap();
        listed += &format!("[[cities]]\nid = \"{id}\"\nconfig = \"{id}/city.toml\"\n");
    }
    let text = format!("[province]\nid = \"henan\"\nname = \"河南省\"\nstore = \"sqlite://province.db\"\n{listed}");
    let config = ProvinceConfig::parse(&text, dir.path()).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 12, 7, 1, 0, 0).unwrap(); // 09:00 Beijing
    let clock = ManualClock::new(now);
    let province = Province::open(config, Arc::new(clock.clone())).await.unwrap();
    let p = User { name: "province-duty".into(), role: Role::Province, credit_code: None };
    province.store.add_user(&p, "token-province", "test", now).await.unwrap();
    for city in &province.cities {
        let office = User { name: "office".into(), role: Role::Office, credit_code: None };
        city.store.add_user(&office, "token-office", "test", now).await.unwrap();
        let fc = User { name: "fc".into(), role: Role::Forecaster, credit_code: None };
        city.store.add_user(&fc, "token-fc", "test", now).await.unwrap();
    }
    Fixture { _dir: dir, clock, province: Arc::new(province) }
}

async fn call(app: Router, method: &str, uri: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let body = match body {
        Some(v) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let resp = app.oneshot(req.body(body).unwrap()).await.unwrap();
    let status = resp.status();
    let bytes = to_bytes(resp.into_body(), 1 << 24).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into())))
}

fn issue_body() -> Value {
    json!({
        "level": "orange",
        "start": "2026-12-08T00:00:00+08:00",
        "end": "2026-12-10T00:00:00+08:00",
        "cities": ["luohe", "xuchang", "zhoukou"],
        "deadline": "2026-12-07T18:00:00+08:00",
        "reason": "区域重污染过程"
    })
}

#[tokio::test]
async fn the_province_issues_and_sees_one_city_follow_one_justify_and_one_late() {
    let f = fixture().await;
    let (status, a) =
        call(f.province_app(), "POST", "/api/v1/advisories", Some("token-province"), Some(issue_body())).await;
    assert_eq!(status, StatusCode::OK, "{a}");
    let id = a["id"].as_str().unwrap().to_owned();
    assert_eq!(id, "henan-2026-001");

    // The city office sees it as addressed to it, awaiting its answer.
    let (status, list) = call(f.city_app("luohe"), "GET", "/api/v1/advisories", Some("token-office"), None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list[0]["status"], "awaiting");
    assert_eq!(list[0]["level"], "orange");

    let answer = format!("/api/v1/advisories/{id}/answer");
    let (status, r) =
        call(f.city_app("luohe"), "POST", &answer, Some("token-office"), Some(json!({"answer": "follow"}))).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!((r["answer"].as_str(), r["level"].as_str()), (Some("followed"), Some("orange")));
    let w = f.province.city("luohe").unwrap().store.warning_in_force().await.unwrap().unwrap();
    assert_eq!(r["warning"], json!(w.id));

    // A justification needs a reason; the forecaster may not answer for the office.
    let justify = |reason: &str| json!({"answer": "justify", "reason": reason});
    let (status, _) = call(f.city_app("xuchang"), "POST", &answer, Some("token-fc"), Some(justify("x"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, e) = call(f.city_app("xuchang"), "POST", &answer, Some("token-office"), Some(justify(""))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    let (status, _) =
        call(f.city_app("xuchang"), "POST", &answer, Some("token-office"), Some(justify("本地扩散条件好"))).await;
    assert_eq!(status, StatusCode::OK);

    // Zhoukou says nothing by 18:00; at 20:30 it is 2 h 30 min overdue.
    f.clock.set(Utc.with_ymd_and_hms(2026, 12, 7, 12, 30, 0).unwrap());
    let (status, all) = call(f.province_app(), "GET", "/api/v1/advisories", Some("token-province"), None).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let cities = all[0]["cities"].as_array().unwrap();
    let of = |c: &str| cities.iter().find(|x| x["city"] == c).unwrap().clone();
    assert_eq!(of("luohe")["status"], "answered");
    assert_eq!(of("xuchang")["answer"]["reason"], "本地扩散条件好");
    assert_eq!(
        (of("zhoukou")["status"].as_str(), of("zhoukou")["late_minutes"].as_i64()),
        (Some("overdue"), Some(150))
    );

    // Zhoukou answers at 20:30: late by 2 h 30 min, and the page says so.
    let (status, _) = call(f.city_app("zhoukou"), "POST", &answer, Some("token-office"), Some(justify("迟报"))).await;
    assert_eq!(status, StatusCode::OK);
    let page = page_text(&f, "/").await;
    assert!(page.contains("迟报 2 h 30 min"), "{page}");
    assert!(page.contains("按时答复"), "{page}");
    assert!(page.contains("区域会商"), "{page}");
}

async fn page_text(f: &Fixture, uri: &str) -> String {
    let (_, v) = call(f.province_app(), "GET", uri, Some("token-province"), None).await;
    v.as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn roles_stay_at_their_level() {
    let f = fixture().await;
    // A city's office token means nothing to the province, and the province's nothing to a city.
    let (status, _) =
        call(f.province_app(), "POST", "/api/v1/advisories", Some("token-office"), Some(issue_body())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = call(f.city_app("luohe"), "GET", "/api/v1/advisories", Some("token-province"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // An advisory naming a city the province does not have is refused, and nothing is stored.
    let mut body = issue_body();
    body["cities"] = json!(["luohe", "kaifeng"]);
    let (status, e) = call(f.province_app(), "POST", "/api/v1/advisories", Some("token-province"), Some(body)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("kaifeng"), "{e}");
    assert!(f.province.store.advisories().await.unwrap().is_empty());
    // A city the advisory does not name cannot answer it.
    let mut body = issue_body();
    body["cities"] = json!(["luohe"]);
    let (_, a) = call(f.province_app(), "POST", "/api/v1/advisories", Some("token-province"), Some(body)).await;
    let uri = format!("/api/v1/advisories/{}/answer", a["id"].as_str().unwrap());
    let (status, e) =
        call(f.city_app("xuchang"), "POST", &uri, Some("token-office"), Some(json!({"answer": "follow"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{e}");
    assert!(
        f.province.city("xuchang").unwrap().store.warning_in_force().await.unwrap().is_none(),
        "no warning was started"
    );
    // Outside a province deployment there are no advisories to see.
    let plain = router(AppState::new(f.province.city("luohe").unwrap().clone(), 100));
    let (status, _) = call(plain, "GET", "/api/v1/advisories", Some("token-office"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

fn form(uri: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header(header::COOKIE, "hw_session=session-province")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(format!("{body}&csrf={}", crate::auth::csrf_of("session-province"))))
        .unwrap()
}

#[tokio::test]
async fn the_province_issues_changes_extends_and_lifts_through_its_forms() {
    let f = fixture().await;
    let now = f.province.now();
    f.province.store.start_session("session-province", "province-duty", now, Duration::hours(12)).await.unwrap();
    let post = |req: Request<Body>| async { f.province_app().oneshot(req).await.unwrap() };
    // Two cities ticked (a repeated field), Beijing times from the pickers, seconds optional.
    let issue = "level=orange&start=2026-12-08T00%3A00&end=2026-12-10T00%3A00&deadline=2026-12-07T18%3A00%3A30\
                 &cities=luohe&cities=zhoukou&reason=%E5%8C%BA%E5%9F%9F%E8%BF%87%E7%A8%8B";
    let resp = post(form("/province/advisory", issue)).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let a = f.province.store.advisories().await.unwrap().pop().expect("issued");
    assert_eq!(a.current().terms.cities, ["luohe", "zhoukou"]);
    assert_eq!(a.current().terms.deadline.to_rfc3339(), "2026-12-07T18:00:30+08:00");
    // A time that is none is refused by name, and nothing changes.
    let bad = format!("id={}&step=extend&end=tomorrow&reason=x", a.id);
    let resp = post(form("/province/advisory/step", &bad)).await;
    let to = resp.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let field = crate::pages::percent_encode("结束时间");
    assert!(to.contains(&field) && to.contains("tomorrow"), "the Chinese page names the field in Chinese: {to}");
    assert_eq!(f.province.store.advisory(&a.id).await.unwrap().unwrap().steps.len(), 1);

    let extend = format!("id={}&step=extend&end=2026-12-11T00%3A00&reason=x", a.id);
    assert_eq!(post(form("/province/advisory/step", &extend)).await.status(), StatusCode::SEE_OTHER);
    let change = format!(
        "id={}&step=change&level=red&start=2026-12-08T00%3A00&end=2026-12-11T00%3A00&deadline=2026-12-07T20%3A00&cities=luohe&reason=x",
        a.id
    );
    assert_eq!(post(form("/province/advisory/step", &change)).await.status(), StatusCode::SEE_OTHER);
    let lift = format!("id={}&step=lift&reason=x", a.id);
    assert_eq!(post(form("/province/advisory/step", &lift)).await.status(), StatusCode::SEE_OTHER);
    let a = f.province.store.advisory(&a.id).await.unwrap().unwrap();
    let kinds: Vec<String> = a.steps.iter().map(|s| format!("{:?}", s.kind)).collect();
    assert_eq!(kinds, ["Issue", "Extend", "Change", "Lift"]);
    // Each city's own audit records every step that named it, and the change that dropped Zhoukou.
    for (city, steps) in [("luohe", 4), ("zhoukou", 3), ("xuchang", 0)] {
        let store = &f.province.city(city).unwrap().store;
        let received =
            store.audit_tail(1000).await.unwrap().into_iter().filter(|e| e.action == "advisory-received").count();
        assert_eq!(received, steps, "{city}");
    }
}

#[tokio::test]
async fn the_province_metrics_give_each_family_once_with_every_city_and_the_answers_owed() {
    let f = fixture().await;
    let (status, _) =
        call(f.province_app(), "POST", "/api/v1/advisories", Some("token-province"), Some(issue_body())).await;
    assert_eq!(status, StatusCode::OK);
    let id = f.province.store.advisories().await.unwrap()[0].id.clone();
    let uri = format!("/api/v1/advisories/{id}/answer");
    let body = json!({"answer": "justify", "reason": "本地扩散条件好"});
    assert_eq!(call(f.city_app("luohe"), "POST", &uri, Some("token-office"), Some(body)).await.0, StatusCode::OK);
    // 20:00: past the 18:00 deadline, two cities have not answered.
    f.clock.set(Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap());
    let (status, v) = call(f.province_app(), "GET", "/metrics", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let text = v.as_str().unwrap();
    assert_eq!(text.matches("# TYPE hazewarn_ready gauge").count(), 1, "{text}");
    for (city, _) in CITIES {
        assert!(text.contains(&format!("hazewarn_ready{{city=\"{city}\"}} ")), "{city}: {text}");
    }
    assert!(text.contains("hazewarn_advisory_answers_owed{status=\"overdue\"} 2\n"), "{text}");
    assert!(text.contains("hazewarn_advisory_answers_owed{status=\"awaiting\"} 0\n"), "{text}");
    // Every sample line is `name{labels} value`, each family's lines after its HELP and TYPE.
    let mut family = "";
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            family = rest.split(' ').next().unwrap();
        } else if !line.starts_with("# HELP ") {
            assert!(line.starts_with(&format!("{family}{{")), "{line} outside its family {family}");
            assert!(line.rsplit(' ').next().unwrap().parse::<f64>().is_ok(), "{line}");
        }
    }
}

#[tokio::test]
async fn the_province_api_is_documented_with_typed_bodies() {
    let f = fixture().await;
    let (status, doc) = call(f.province_app(), "GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let mut ops = Vec::new();
    for (path, methods) in doc["paths"].as_object().unwrap() {
        for (method, op) in methods.as_object().unwrap() {
            ops.push(format!("{method} {path}"));
            assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{method} {path}");
            let body = &op["responses"]["200"]["content"]["application/json"]["schema"];
            let s = crate::tests_hardening::resolve(&doc, body);
            assert!(s["properties"].is_object(), "{method} {path}: {s}");
            // Every route it documents exists: without a token it is 401, never "no such route".
            let uri = path.replace("{id}", "x");
            let (status, _) = call(f.province_app(), &method.to_uppercase(), &uri, None, None).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri}");
        }
    }
    ops.sort();
    assert_eq!(
        ops,
        [
            "get /api/v1/advisories",
            "get /api/v1/consultation",
            "post /api/v1/advisories",
            "post /api/v1/advisories/{id}/steps"
        ]
    );
    // The served list has the fields its schema documents for each city.
    let (_, issued) =
        call(f.province_app(), "POST", "/api/v1/advisories", Some("token-province"), Some(issue_body())).await;
    assert!(issued["id"].is_string(), "{issued}");
    let (_, list) = call(f.province_app(), "GET", "/api/v1/advisories", Some("token-province"), None).await;
    let view = crate::tests_hardening::resolve(
        &doc,
        &doc["paths"]["/api/v1/advisories"]["get"]["responses"]["200"]["content"]["application/json"]["schema"],
    );
    let city = crate::tests_hardening::resolve(&doc, &view["properties"]["cities"]);
    let served = list[0]["cities"][0].as_object().unwrap();
    for field in city["required"].as_array().into_iter().flatten().chain(city["allOf"].as_array().into_iter().flatten())
    {
        if let Some(name) = field.as_str() {
            assert!(served.contains_key(name), "{name} is documented as required but not served: {served:?}");
        }
    }
    assert!(
        served.contains_key("city") && served.contains_key("status") && served.contains_key("deadline"),
        "{served:?}"
    );
}
