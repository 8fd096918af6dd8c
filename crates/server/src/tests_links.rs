//! The acknowledgement link: opened and used once as a duty officer would from an SMS, and
//! refused (403, naming no notice) when altered, forged for another enterprise's notice,
//! expired or replayed.

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use hazewarn_scheduler::AckLinks;
use hazewarn_store::AckLink;
use tower::ServiceExt as _;

use crate::router;
use crate::tests::{ENTERPRISE_A, Fixture, fixture_with, issue_orange};

const LINKED: &str = "[links]\nbase_url = \"https://hw.luohe.gov.cn\"\nsecret = \"server-test-link-secret-0123456789abcdef\"\n\
    [[channels]]\nkind = \"sms-gateway\"\nname = \"sms\"\nurl = \"http://127.0.0.1:9/sms\"\nsecret = \"gw\"\nsign_name = \"漯河应急\"\n";

async fn send(f: &Fixture, method: &str, uri: &str) -> (StatusCode, String) {
    let mut req = Request::builder().method(method).uri(uri);
    if method == "POST" {
        // A phone's browser posting the page's own form.
        req = req
            .header("sec-fetch-site", "same-origin")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    let resp = router(f.state.clone()).oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = resp.status();
    (status, String::from_utf8(to_bytes(resp.into_body(), 1 << 24).await.unwrap().to_vec()).unwrap())
}

#[tokio::test]
async fn a_link_acknowledges_its_notice_once_and_every_bad_link_is_refused_alike() {
    let f = fixture_with(1000, LINKED).await;
    let city = f.state.city.clone();
    let w = issue_orange(&f).await;
    let notices = city.store.notices_of(w["id"].as_str().unwrap(), None).await.unwrap();
    let a = notices.iter().find(|n| n.notice.credit_code == ENTERPRISE_A).unwrap();
    let b = notices.iter().find(|n| n.notice.credit_code != ENTERPRISE_A).unwrap();
    let links = city.links.clone().unwrap();
    let token_a = links.for_notice(&a.notice, "sms").token;
    let token_b = links.for_notice(&b.notice, "sms").token;

    let (status, page) = send(&f, "GET", &format!("/a/{token_a}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&a.notice.id) && page.contains("id=\"ack\""), "{page}");
    // Opening it records nothing.
    assert!(city.store.notice(&a.notice.id).await.unwrap().unwrap().acknowledged_at.is_none());

    let mut altered = token_a.clone().into_bytes();
    altered[3] = if altered[3] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    // A row for B's notice, signed with another secret, under a token of its own.
    let forged = AckLinks::new(b"not-this-citys-secret-0123456789abcdef", "x").for_notice(&b.notice, "sms");
    let mut tx = city.store.write().await.unwrap();
    tx.insert_ack_link(&AckLink { ..forged.clone() }).await.unwrap();
    tx.commit().await.unwrap();
    for bad in [altered.as_str(), forged.token.as_str(), "nothing-like-a-token"] {
        for method in ["GET", "POST"] {
            let (status, page) = send(&f, method, &format!("/a/{bad}")).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {bad}");
            assert!(page.contains("id=\"refused\"") && !page.contains("LH-"), "{page}");
        }
    }

    let (status, page) = send(&f, "POST", &format!("/a/{token_a}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("id=\"done\""));
    let acked = city.store.notice(&a.notice.id).await.unwrap().unwrap();
    assert_eq!(acked.acknowledged_via.as_deref(), Some("link:sms"));
    assert_eq!(acked.acknowledged_by, Some(format!("link:{ENTERPRISE_A}")));
    assert!(city.store.notice(&b.notice.id).await.unwrap().unwrap().acknowledged_at.is_none());
    // Replayed: spent.
    for method in ["POST", "GET"] {
        assert_eq!(send(&f, method, &format!("/a/{token_a}")).await.0, StatusCode::FORBIDDEN, "{method} replayed");
    }
    // Expired: B's link a day after the later of its window and its deadline.
    let expires = links.for_notice(&b.notice, "sms").expires_at;
    assert_eq!(expires, b.notice.effective_until.with_timezone(&chrono::Utc) + chrono::Duration::hours(24));
    f.clock.set(expires + chrono::Duration::minutes(1));
    assert_eq!(send(&f, "POST", &format!("/a/{token_b}")).await.0, StatusCode::FORBIDDEN);
    assert!(city.store.notice(&b.notice.id).await.unwrap().unwrap().acknowledged_at.is_none());
    assert!(city.store.verify_audit().await.unwrap().ok());
}
