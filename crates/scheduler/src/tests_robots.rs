//! The work-group robots against local HTTP servers that play 钉钉 and 企业微信: the DingTalk one
//! checks the signature as its documentation specifies and refuses a wrong one.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Query, State};
use axum::routing::post;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::channel::{Channel, SendResult};
use crate::robots::{DingTalkRobot, WeComRobot, dingtalk_sign, robot_text};
use hazewarn_store::OutboxEntry;

#[derive(Clone, Default)]
struct Provider {
    /// The errcode to answer once the request is accepted (0: delivered).
    answer: Arc<Mutex<i64>>,
    bodies: Arc<Mutex<Vec<Value>>>,
}

const SECRET: &str = "SECtest-secret-for-the-local-robot";

/// DingTalk's check, written from its documentation: the timestamp is within an hour of now, and
/// `sign` is URL-decoded Base64 of HMAC-SHA256(secret, timestamp + "\n" + secret).
async fn dingtalk(
    State(p): State<Provider>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let ts: i64 = q.get("timestamp").and_then(|t| t.parse().ok()).unwrap_or(0);
    let now = chrono::Utc::now().timestamp_millis();
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{ts}\n{SECRET}").as_bytes());
    let want = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    // axum's Query has already URL-decoded `sign`.
    if q.get("access_token").map(String::as_str) != Some("tok")
        || (now - ts).abs() > 3_600_000
        || q.get("sign") != Some(&want)
    {
        return Json(json!({"errcode": 310000, "errmsg": "sign not match"}));
    }
    p.bodies.lock().unwrap().push(body);
    let code = *p.answer.lock().unwrap();
    Json(json!({"errcode": code, "errmsg": if code == 0 { "ok" } else { "send too fast" }}))
}

async fn wecom(
    State(p): State<Provider>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Json<Value> {
    if q.get("key").map(String::as_str) != Some("k-1") {
        return Json(json!({"errcode": 93000, "errmsg": "invalid webhook url"}));
    }
    p.bodies.lock().unwrap().push(body);
    let code = *p.answer.lock().unwrap();
    Json(json!({"errcode": code, "errmsg": if code == 0 { "ok" } else { "api freq out of limit" }}))
}

async fn serve(p: Provider) -> String {
    let app = axum::Router::new()
        .route("/robot/send", post(dingtalk))
        .route("/cgi-bin/webhook/send", post(wecom))
        .with_state(p);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn message(kind: &str, payload: Value) -> OutboxEntry {
    let mut m = OutboxEntry::unqueued(kind, "duty", "", "m-1", payload.to_string());
    m.subject = "LH-2026-001".into();
    m
}

#[test]
fn the_dingtalk_signature_matches_its_documented_recipe() {
    // Computed with Python's hmac, base64 and urllib.parse.quote_plus, as DingTalk's sample does.
    assert_eq!(
        dingtalk_sign("SECexample0123456789", 1_700_000_000_000),
        "figG6qqCA%2FlRh0hsGCW2zNtNV5znkAFut5BI0zKhqnQ%3D"
    );
}

#[tokio::test]
async fn a_dingtalk_robot_posts_signed_and_a_wrong_secret_is_refused() {
    let p = Provider::default();
    let base = serve(p.clone()).await;
    let robot = |secret: &str| DingTalkRobot {
        name: "duty".into(),
        webhook: format!("{base}/robot/send?access_token=tok"),
        secret: secret.into(),
        kinds: vec!["office".into(), "alert".into()],
        client: reqwest::Client::new(),
    };
    let alert = message("alert", json!({"warning_id": "LH-2026-001", "step": 1, "kind": "issue", "level": "orange"}));
    assert_eq!(robot(SECRET).send(&alert).await, SendResult::Delivered("errcode 0".into()));
    let body = p.bodies.lock().unwrap()[0].clone();
    assert_eq!(body["msgtype"], "markdown");
    assert!(body["markdown"]["text"].as_str().unwrap().contains("LH-2026-001"), "{body}");
    assert_eq!(body["markdown"]["title"], "重污染天气预警 orange");
    match robot("SECwrong").send(&alert).await {
        SendResult::Permanent(e) => assert!(e.starts_with("errcode 310000"), "{e}"),
        other => panic!("{other:?}"),
    }
    *p.answer.lock().unwrap() = 130101;
    assert!(matches!(robot(SECRET).send(&alert).await, SendResult::Transient { .. }), "sending too fast is retried");
    // The access token never reaches the outbox row.
    assert_eq!(robot(SECRET).target("alert", &Default::default()).unwrap(), format!("{base}/robot/send"));
    assert!(robot(SECRET).accepts("office") && !robot(SECRET).accepts("notice"));
}

#[tokio::test]
async fn a_wecom_robot_posts_markdown_and_classes_its_error_codes() {
    let p = Provider::default();
    let base = serve(p.clone()).await;
    let robot = |key: &str| WeComRobot {
        name: "duty".into(),
        webhook: format!("{base}/cgi-bin/webhook/send?key={key}"),
        kinds: vec!["office".into()],
        client: reqwest::Client::new(),
    };
    let overdue = message(
        "office",
        json!({"escalation": true, "notice_id": "N-1", "enterprise": "示例铸造企业05有限公司", "credit_code": "91411100MA4166299W", "ack_deadline": "2026-01-02T02:00:00+08:00"}),
    );
    assert_eq!(robot("k-1").send(&overdue).await, SendResult::Delivered("errcode 0".into()));
    let content = p.bodies.lock().unwrap()[0]["markdown"]["content"].as_str().unwrap().to_owned();
    assert!(
        content.starts_with("### 逾期未确认") && content.contains("示例铸造企业05有限公司") && content.contains("N-1"),
        "{content}"
    );
    *p.answer.lock().unwrap() = 45009;
    assert!(matches!(robot("k-1").send(&overdue).await, SendResult::Transient { .. }));
    match robot("wrong").send(&overdue).await {
        SendResult::Permanent(e) => assert_eq!(e, "errcode 93000: invalid webhook url"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn robot_text_stays_within_the_provider_limit() {
    let long = "企".repeat(3000); // 9,000 bytes
    let text = robot_text("office", &json!({"escalation": true, "enterprise": long}).to_string());
    assert!(text.len() <= 4000 && text.starts_with("### 逾期未确认"), "{}", text.len());
}
