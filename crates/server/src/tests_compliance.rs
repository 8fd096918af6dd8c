//! Alarms through the API and the pages: an enterprise sees and answers only its own, the office
//! records the site check and closes it, each step only after the one before.

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use hazewarn_store::compliance::{Alarm, AlarmState};
use serde_json::json;
use tower::ServiceExt as _;

use crate::router;
use crate::tests::{ENTERPRISE_A, Fixture, call, fixture, issue_orange};

async fn open_alarm(f: &Fixture, id: &str) {
    let now = f.state.city.now();
    let a = Alarm {
        id: id.into(),
        warning_id: "LH-20260105".into(),
        step: 1,
        credit_code: ENTERPRISE_A.into(),
        enterprise: "甲".into(),
        line: "1#生产线".into(),
        evidence: vec!["production power at 97 % of its baseline; 10 % allowed".into()],
        confidence: 1.0,
        ..Default::default()
    };
    let mut tx = f.state.city.store.write().await.unwrap();
    assert!(tx.open_alarm(&a, now).await.unwrap());
    tx.commit().await.unwrap();
}

async fn page(f: &Fixture, path: &str, session: &str) -> String {
    let req = Request::get(path).header(header::COOKIE, format!("hw_session=session-{session}")).body(Body::empty());
    let resp = router(f.state.clone()).oneshot(req.unwrap()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    String::from_utf8(to_bytes(resp.into_body(), 1 << 24).await.unwrap().to_vec()).unwrap()
}

#[tokio::test]
async fn an_alarm_is_answered_by_its_enterprise_and_closed_by_the_office() {
    let f = fixture(1000).await;
    issue_orange(&f).await;
    open_alarm(&f, "ALM-1").await;

    let (status, mine) = call(&f, "GET", "/api/v1/alarms", Some("ent-a"), None).await;
    assert_eq!((status, mine.as_array().unwrap().len()), (StatusCode::OK, 1));
    let (_, theirs) = call(&f, "GET", "/api/v1/alarms", Some("ent-b"), None).await;
    assert_eq!(theirs, json!([]), "another enterprise sees none");
    let (status, _) = call(&f, "GET", "/api/v1/alarms", Some("fc"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let answer = json!({"text": "1# 线 8 时已停产，附检修记录"});
    let (status, body) =
        call(&f, "POST", "/api/v1/alarms/ALM-1/explanation", Some("ent-b"), Some(answer.clone())).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (status, _) = call(&f, "POST", "/api/v1/alarms/ALM-1/explanation", Some("office"), Some(answer.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the office does not answer for the enterprise");
    let (status, body) =
        call(&f, "POST", "/api/v1/alarms/ALM-1/explanation", Some("ent-a"), Some(json!({"text": "  "}))).await;
    assert_eq!(
        (status, body["error"]["message"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("`text` is required"))
    );
    let (status, body) = call(&f, "POST", "/api/v1/alarms/ALM-1/explanation", Some("ent-a"), Some(answer)).await;
    assert_eq!((status, body["state"].as_str()), (StatusCode::OK, Some("explained")), "{body}");

    // The enterprise's page shows it with the form; the office's board lists it with the site-check form.
    let ent = page(&f, "/enterprise", "ent-a").await;
    assert!(
        ent.contains("id=\"my-alarms\"") && ent.contains("ALM-1") && ent.contains("action=\"/enterprise/alarm"),
        "{ent}"
    );
    assert!(!page(&f, "/enterprise", "ent-b").await.contains("ALM-1"));
    let office = page(&f, "/office", "office").await;
    let board = &office[office.find("id=\"alarms\"").expect("the alarm table")..];
    assert!(board.contains("企业已反馈") && board.contains("name=\"action\" value=\"verify\""), "{board}");

    let close = json!({"outcome": "violation", "note": "移交执法"});
    let (status, _) = call(&f, "POST", "/api/v1/alarms/ALM-1/closure", Some("office"), Some(close.clone())).await;
    assert_eq!(status, StatusCode::CONFLICT, "closed only after the site check");
    let check = json!({"text": "现场核查：生产线运行"});
    let (status, _) = call(&f, "POST", "/api/v1/alarms/ALM-1/site-check", Some("ent-a"), Some(check.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = call(&f, "POST", "/api/v1/alarms/ALM-1/site-check", Some("office"), Some(check)).await;
    assert_eq!((status, body["state"].as_str()), (StatusCode::OK, Some("verified")), "{body}");
    let bad = json!({"outcome": "maybe", "note": "x"});
    let (status, body) = call(&f, "POST", "/api/v1/alarms/ALM-1/closure", Some("office"), Some(bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = call(&f, "POST", "/api/v1/alarms/ALM-1/closure", Some("office"), Some(close)).await;
    assert_eq!(
        (status, body["state"].as_str(), body["outcome"].as_str()),
        (StatusCode::OK, Some("closed"), Some("violation"))
    );
    assert!(f.state.city.store.verify_audit().await.unwrap().ok());
}

/// A page form's POST, from the site itself, in `who`'s browser session.
fn form(uri: &str, who: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header(header::COOKIE, format!("hw_session=session-{who}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

#[tokio::test]
async fn the_page_forms_work_an_alarm_that_no_channel_delivered() {
    let f = fixture(1000).await;
    issue_orange(&f).await;
    open_alarm(&f, "ALM-2").await;
    let office = page(&f, "/office", "office").await;
    assert!(office.contains("name=\"action\" value=\"phone\""), "an open alarm offers the phone record");
    let post = |req: Request<Body>| async { router(f.state.clone()).oneshot(req).await.unwrap().status() };
    let state = || async { f.state.city.store.alarm("ALM-2").await.unwrap().unwrap().state };

    // Without the session's CSRF token nothing changes.
    assert_eq!(post(form("/office/alarm", "office", "id=ALM-2&action=phone&text=x")).await, StatusCode::FORBIDDEN);
    assert_eq!(state().await, AlarmState::Open);
    let csrf = |who: &str| crate::auth::csrf_of(&format!("session-{who}"));
    let body = format!("id=ALM-2&action=phone&text=%E7%94%B5%E8%AF%9D%E9%80%9A%E7%9F%A5&csrf={}", csrf("office"));
    // The enterprise cannot record the office's call; the office can.
    assert_eq!(
        post(form("/office/alarm", "ent-a", &body.replace(&csrf("office"), &csrf("ent-a")))).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(state().await, AlarmState::Open, "refused for the enterprise (the redirect says why)");
    assert_eq!(post(form("/office/alarm", "office", &body)).await, StatusCode::SEE_OTHER);
    assert_eq!(state().await, AlarmState::Notified);

    let answer = format!("id=ALM-2&text=%E5%B7%B2%E5%81%9C%E4%BA%A7&csrf={}", csrf("ent-a"));
    assert_eq!(
        post(form("/enterprise/alarm", "ent-b", &answer.replace(&csrf("ent-a"), &csrf("ent-b")))).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(state().await, AlarmState::Notified, "another enterprise's answer changes nothing");
    assert_eq!(post(form("/enterprise/alarm", "ent-a", &answer)).await, StatusCode::SEE_OTHER);
    let a = f.state.city.store.alarm("ALM-2").await.unwrap().unwrap();
    assert_eq!((a.state, a.explanation.as_deref()), (AlarmState::Explained, Some("已停产")));
}

#[tokio::test]
async fn the_board_lists_judged_lines_in_a_table_of_their_own_and_counts_the_unjudged() {
    let f = fixture(1000).await;
    let w = issue_orange(&f).await;
    let id = w["id"].as_str().unwrap().to_owned();
    let check = |line: &str, verdict: &str, body: serde_json::Value| hazewarn_store::compliance::Check {
        warning_id: id.clone(),
        step: 1,
        credit_code: ENTERPRISE_A.into(),
        line: line.into(),
        checked_at: "t".into(),
        hours: 6,
        verdict: verdict.into(),
        body: body.to_string(),
    };
    let mut tx = f.state.city.store.write().await.unwrap();
    let judged = json!({"line": "1#", "treatment": {"kind": "stop"}, "production_ratio": 0.05,
        "emission_ratio": null, "verdict": "complied"});
    let unjudged = json!({"line": "2#", "treatment": {"kind": "stop"}, "production_ratio": null,
        "emission_ratio": null, "verdict": "no-data", "why": "no evidence covers 75 % of the 6 hours"});
    tx.save_check(&check("1#", "complied", judged)).await.unwrap();
    tx.save_check(&check("2#", "no-data", unjudged)).await.unwrap();
    tx.commit().await.unwrap();
    let office = page(&f, "/office", "office").await;
    let board = &office[office.find("id=\"compliance\"").expect("the board")..];
    let board = &board[..board.find("</table>").unwrap()];
    assert!(!board.contains("<table"), "no table opens inside the board: {board}");
    assert!(board.contains("<td>1#</td>") && board.contains("已落实") && board.contains("5 %"), "{board}");
    assert!(!board.contains("2#"), "the unjudged line is counted, not listed");
    assert!(office.contains("<p id=\"unmonitored\">1 条生产线无足够监测数据，未能核查</p>"), "{office}");
    assert!(office.find("id=\"achieved\"").unwrap() < office.find("id=\"compliance\"").unwrap());
}
