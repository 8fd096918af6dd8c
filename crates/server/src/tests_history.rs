//! The warning history (API and page, filtered by year) and the audit log viewer.

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use serde_json::json;
use tower::ServiceExt as _;

use crate::router;
use crate::tests::{Fixture, call, fixture, issue_orange};

async fn page(f: &Fixture, path: &str, session: &str) -> (StatusCode, String) {
    let req = Request::get(path).header(header::COOKIE, format!("hw_session=session-{session}")).body(Body::empty());
    let resp = router(f.state.clone()).oneshot(req.unwrap()).await.unwrap();
    let status = resp.status();
    (status, String::from_utf8(to_bytes(resp.into_body(), 1 << 24).await.unwrap().to_vec()).unwrap())
}

#[tokio::test]
async fn the_history_lists_each_warning_with_its_steps_by_year() {
    let f = fixture(1000).await;
    let w = issue_orange(&f).await;
    let body = json!({"step": "upgrade", "level": "red", "end": "2026-01-09T00:00:00+08:00", "reason": "会商后升级"});
    let (status, _) = call(&f, "POST", "/api/v1/warnings", Some("office"), Some(body)).await;
    assert_eq!(status, StatusCode::OK);

    let (status, h) = call(&f, "GET", "/api/v1/warnings", Some("office"), None).await;
    assert_eq!(status, StatusCode::OK, "{h}");
    // The fixture's clock stands in January 2026.
    assert_eq!(h["years"], json!([2026]));
    let ws = h["warnings"].as_array().unwrap();
    assert_eq!(ws.len(), 1);
    assert_eq!(ws[0]["id"], w["id"]);
    let steps: Vec<(&str, &str, &str)> = ws[0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["kind"].as_str().unwrap(), s["level"].as_str().unwrap(), s["reason"].as_str().unwrap()))
        .filter(|s| s.0 != "draft")
        .collect();
    assert_eq!(steps, [("issue", "orange", "会商后发布"), ("upgrade", "red", "会商后升级")]);
    assert_eq!(ws[0]["state"], "issued");
    assert_eq!(ws[0]["level"], "red");

    let (_, other_year) = call(&f, "GET", "/api/v1/warnings?year=2025", Some("office"), None).await;
    assert_eq!(other_year["warnings"], json!([]));
    let (status, _) = call(&f, "GET", "/api/v1/warnings", Some("fc"), None).await;
    assert_eq!(status, StatusCode::OK, "the forecaster reads the history");
    let (status, _) = call(&f, "GET", "/api/v1/warnings", Some("ent-a"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, html) = page(&f, "/office/history?year=2026", "office").await;
    assert_eq!(status, StatusCode::OK);
    let id = w["id"].as_str().unwrap();
    assert!(html.contains(id) && html.contains("会商后升级") && html.contains(">升级<"), "{html}");
    let (_, html) = page(&f, "/office/history?year=2025", "office").await;
    assert!(!html.contains(id) && html.contains("没有符合条件的预警"));
    let (_, html) = page(&f, "/office/history?lang=en", "office").await;
    assert!(html.contains(">upgrade<") && html.contains("Warning history"));
    let (status, _) = page(&f, "/office/history", "ent-a").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_audit_log_pages_newest_first_and_verifies_its_chain() {
    let f = fixture(1000).await;
    issue_orange(&f).await;
    let newest = f.state.city.store.audit_tail(1).await.unwrap()[0].seq;
    let (status, html) = page(&f, "/office/audit", "office").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("<td class=\"num\">{newest}</td>")), "{html}");
    assert!(html.contains("id=\"verify\""));
    // A page before the newest entry does not show it.
    let (_, older) = page(&f, &format!("/office/audit?before={newest}"), "office").await;
    assert!(!older.contains(&format!("<td class=\"num\">{newest}</td>")));
    assert!(older.contains(&format!("<td class=\"num\">{}</td>", newest - 1)));
    let (_, verified) = page(&f, "/office/audit?verify=true", "office").await;
    assert!(verified.contains("审计链完整"), "{verified}");
    let (status, _) = page(&f, "/office/audit", "fc").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
