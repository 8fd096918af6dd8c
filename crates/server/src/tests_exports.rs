//! The office's Excel exports and print view, read back as a spreadsheet program would.

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use calamine::{Data, Reader, Xlsx};
use serde_json::Value;
use tower::ServiceExt as _;

use crate::router;
use crate::tests::{Fixture, call, fixture, issue_orange};

async fn get(f: &Fixture, path: &str, session: &str) -> (StatusCode, Option<String>, Vec<u8>) {
    let req = Request::get(path).header(header::COOKIE, format!("hw_session=session-{session}")).body(Body::empty());
    let resp = router(f.state.clone()).oneshot(req.unwrap()).await.unwrap();
    let status = resp.status();
    let disposition = resp.headers().get(header::CONTENT_DISPOSITION).map(|v| v.to_str().unwrap().to_owned());
    (status, disposition, to_bytes(resp.into_body(), 1 << 24).await.unwrap().to_vec())
}

/// Every sheet of a workbook: (name, rows of cells as text or number).
fn sheets(bytes: Vec<u8>) -> Vec<(String, Vec<Vec<Data>>)> {
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("an XLSX file");
    let names = wb.sheet_names().to_vec();
    names
        .into_iter()
        .map(|n| {
            let range = wb.worksheet_range(&n).unwrap();
            (n, range.rows().map(|r| r.to_vec()).collect())
        })
        .collect()
}

fn number(d: &Data) -> f64 {
    match d {
        Data::Float(x) => *x,
        Data::Int(x) => *x as f64,
        other => panic!("not a number: {other:?}"),
    }
}

#[tokio::test]
async fn the_plan_export_is_the_issued_plan_line_by_line_with_its_totals() {
    let f = fixture(1000).await;
    let (status, _, _) = get(&f, "/office/export/plan.xlsx", "office").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no warning in force, nothing to export");
    let w = issue_orange(&f).await;
    let (status, disposition, bytes) = get(&f, "/office/export/plan.xlsx", "office").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(disposition.unwrap(), format!("attachment; filename=\"{}-plan.xlsx\"", w["id"].as_str().unwrap()));
    let book = sheets(bytes);
    assert_eq!(book.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(), ["减排方案", "减排合计"]);
    let lines = &book[0].1;
    assert_eq!(lines[0][0], Data::String("企业".into()), "{:?}", lines[0]);
    assert_eq!(lines[0][8], Data::String("SO₂ kg/d".into()));
    // The plan the notices were issued from, as stored with the step: the sheet holds each of its
    // lines, and its columns add up to its totals.
    let step = f.state.city.store.warning_in_force().await.unwrap().unwrap().current().step;
    let issued = f.state.city.store.plan(w["id"].as_str().unwrap(), step).await.unwrap().expect("a stored plan");
    let plan = serde_json::to_value(&issued).unwrap();
    let api_lines: usize =
        plan["enterprises"].as_array().unwrap().iter().map(|e| e["lines"].as_array().unwrap().len()).sum();
    assert_eq!(lines.len() - 1, api_lines);
    let totals: Vec<&Value> = plan["totals"].as_array().unwrap().iter().collect();
    for (col, pollutant) in [(8, "SO2"), (9, "NOx"), (10, "PM"), (11, "VOCs")] {
        let sum: f64 = lines[1..].iter().map(|r| number(&r[col])).sum();
        let total = totals.iter().find(|t| t["pollutant"] == pollutant).unwrap()["reduction_kg_d"].as_f64().unwrap();
        assert!((sum - total).abs() < 1e-6 * total.max(1.0), "{pollutant}: {sum} vs {total}");
    }
    // A list imported after the warning changes the preview, not what was issued.
    let repo = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/lists/luohe-illustrative.csv");
    let csv = std::fs::read_to_string(repo).unwrap();
    let fewer: String =
        csv.lines().filter(|l| !l.starts_with(crate::tests::ENTERPRISE_A)).map(|l| format!("{l}\n")).collect();
    let req = Request::post("/api/v1/lists?name=fewer.csv")
        .header(header::AUTHORIZATION, "Bearer token-office")
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(Body::from(fewer))
        .unwrap();
    assert_eq!(router(f.state.clone()).oneshot(req).await.unwrap().status(), StatusCode::OK);
    let (_, preview) = call(&f, "GET", "/api/v1/plan?level=orange", Some("office"), None).await;
    let count = |p: &Value| p["enterprises"].as_array().unwrap().len();
    assert_eq!(count(&preview) + 1, count(&plan), "the new list plans one enterprise fewer");
    let (_, _, bytes) = get(&f, "/office/export/plan.xlsx", "office").await;
    assert_eq!(sheets(bytes)[0].1.len() - 1, api_lines, "the export is still the issued plan");
    let sums = &book[1].1;
    assert_eq!(sums.len(), 1 + totals.len());
    // In English, the headers are English.
    let (_, _, bytes) = get(&f, "/office/export/plan.xlsx?lang=en", "office").await;
    assert_eq!(sheets(bytes)[0].1[0][0], Data::String("Enterprise".into()));
    // Only the office.
    let (status, _, _) = get(&f, "/office/export/plan.xlsx", "ent-a").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn deliveries_and_acknowledgements_export_one_row_per_notice() {
    let f = fixture(1000).await;
    issue_orange(&f).await;
    let (_, notices) = call(&f, "GET", "/api/v1/notices", Some("office"), None).await;
    let n = notices.as_array().unwrap().len();
    assert!(n > 0);
    let first = notices[0]["notice"]["id"].as_str().unwrap().to_owned();
    let mine =
        notices.as_array().unwrap().iter().find(|x| x["notice"]["credit_code"] == crate::tests::ENTERPRISE_A).unwrap();
    let id = mine["notice"]["id"].as_str().unwrap().to_owned();
    let (status, _) = call(&f, "POST", &format!("/api/v1/notices/{id}/ack"), Some("ent-a"), None).await;
    assert_eq!(status, StatusCode::OK);

    let (status, _, bytes) = get(&f, "/office/export/deliveries.xlsx", "office").await;
    assert_eq!(status, StatusCode::OK);
    let rows = &sheets(bytes)[0].1;
    assert_eq!(rows.len(), 1 + n);
    assert!(rows[1..].iter().any(|r| r[0] == Data::String(first.clone())));

    let (_, _, bytes) = get(&f, "/office/export/acknowledgements.xlsx", "office").await;
    let rows = &sheets(bytes)[0].1;
    assert_eq!(rows.len(), 1 + n);
    let acked: Vec<&Vec<Data>> =
        rows[1..].iter().filter(|r| !matches!(&r[5], Data::Empty) && r[5] != Data::String(String::new())).collect();
    assert_eq!(acked.len(), 1, "only enterprise A acknowledged");
    assert_eq!(acked[0][0], Data::String(id));
    assert_eq!(acked[0][6], Data::String("enterprise".into()));
}

#[tokio::test]
async fn the_print_view_holds_the_warning_and_its_plan() {
    let f = fixture(1000).await;
    let w = issue_orange(&f).await;
    let (status, _, body) = get(&f, "/office/print", "office").await;
    assert_eq!(status, StatusCode::OK);
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains(w["id"].as_str().unwrap()) && html.contains("会商后发布"), "{html}");
    assert!(html.contains("id=\"print-plan\"") && html.contains("id=\"print-totals\""));
}

#[tokio::test]
async fn the_office_sees_delivery_totals_and_retries_every_dead_letter_at_once() {
    let f = fixture(1000).await;
    issue_orange(&f).await;
    // Two deliveries fail for good.
    let now = f.state.city.now();
    crate::tests::enqueue_hook_messages(&f.state.city.store, "N", 2, now).await;
    let claimed = f.state.city.store.claim_due("test", now, chrono::Duration::minutes(5), 2, None).await.unwrap();
    assert_eq!(claimed.len(), 2);
    for e in &claimed {
        let outcome = hazewarn_store::DeliveryOutcome::Dead { error: "410 gone".into() };
        assert!(f.state.city.store.record_attempt(&e.id, e.lease.as_ref().unwrap(), now, &outcome).await.unwrap());
    }
    let (_, _, page) = get(&f, "/office", "office").await;
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains("id=\"delivery-totals\""), "{page}");
    assert!(page.contains("全部重新投递 (2)"), "{page}");
    let csrf = crate::auth::csrf_of("session-office");
    let req = Request::post("/office/retry-all")
        .header(header::COOKIE, "hw_session=session-office")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("csrf={csrf}")))
        .unwrap();
    let resp = router(f.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let dead = f.state.city.store.outbox_in(hazewarn_store::OutboxStatus::Dead, 10).await.unwrap();
    assert!(dead.is_empty(), "{dead:?}");
    // Each retry is audited, by the office.
    let tail = f.state.city.store.audit_tail(2).await.unwrap();
    assert!(tail.iter().all(|e| e.action == "retry-dead-letter" && e.actor == "office"), "{tail:?}");
}

#[tokio::test]
async fn an_enterprise_prints_its_own_notice_and_no_other() {
    let f = fixture(1000).await;
    issue_orange(&f).await;
    let (_, notices) = call(&f, "GET", "/api/v1/notices", Some("office"), None).await;
    let notices = notices.as_array().unwrap();
    let id_of = |mine: bool| {
        notices.iter().find(|n| (n["notice"]["credit_code"] == crate::tests::ENTERPRISE_A) == mine).unwrap()["notice"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (status, _, body) = get(&f, &format!("/enterprise/notice/{}", id_of(true)), "ent-a").await;
    assert_eq!(status, StatusCode::OK);
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains(&id_of(true)) && html.contains("依据"), "{html}");
    let (status, _, _) = get(&f, &format!("/enterprise/notice/{}", id_of(false)), "ent-a").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, _, page) = get(&f, "/enterprise", "ent-a").await;
    assert!(String::from_utf8(page).unwrap().contains(&format!("href=\"/enterprise/notice/{}\"", id_of(true))));
}
