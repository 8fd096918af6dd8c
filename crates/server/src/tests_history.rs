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

fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    n.children().find(|c| c.has_tag_name(("http://www.w3.org/2005/Atom", name)))
}

/// RFC 4287 §4.1.1–4.1.2: a feed has an author (or every entry has one), an id, a title and
/// `updated`; each entry an id, a title, `updated` and, without content, an alternate link.
#[tokio::test]
async fn the_atom_feed_is_valid_and_each_entry_links_its_own_alert() {
    let f = fixture(1000).await;
    issue_orange(&f).await;
    let body = json!({"step": "upgrade", "level": "red", "end": "2026-01-09T00:00:00+08:00", "reason": "会商后升级"});
    let (status, _) = call(&f, "POST", "/api/v1/warnings", Some("office"), Some(body)).await;
    assert_eq!(status, StatusCode::OK);
    let (_, feed) = call(&f, "GET", "/feed.atom", None, None).await;
    let feed = feed.as_str().unwrap().to_owned();
    let doc = roxmltree::Document::parse(&feed).unwrap();
    let atom = "http://www.w3.org/2005/Atom";
    let root = doc.root_element();
    assert_eq!(root.tag_name().namespace(), Some(atom));
    for name in ["id", "title", "updated", "author"] {
        assert!(child(root, name).is_some(), "feed without {name}: {feed}");
    }
    assert!(
        child(child(root, "author").unwrap(), "name")
            .is_some_and(|n| n.text() == Some("漯河市重污染天气应急指挥部办公室"))
    );
    let entries: Vec<_> = root.children().filter(|c| c.has_tag_name((atom, "entry"))).collect();
    assert_eq!(entries.len(), 2, "the issue and the upgrade");
    let mut links = Vec::new();
    for e in &entries {
        for name in ["id", "title", "updated"] {
            assert!(child(*e, name).is_some(), "entry without {name}");
        }
        let link = child(*e, "link").expect("an alternate link");
        assert_eq!(link.attribute("rel"), Some("alternate"));
        links.push(link.attribute("href").unwrap().to_owned());
    }
    links.dedup();
    assert_eq!(links.len(), 2, "each entry its own alert: {links:?}");
    // Newest first: the upgrade's alert is an Update that references the issue's Alert.
    let (status, upgrade) = call(&f, "GET", &links[0], None, None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, issue) = call(&f, "GET", &links[1], None, None).await;
    let (upgrade, issue) = (upgrade.as_str().unwrap(), issue.as_str().unwrap());
    assert!(upgrade.contains("<msgType>Update</msgType>") && issue.contains("<msgType>Alert</msgType>"));
    let id_of = |xml: &str| xml[xml.find("<identifier>").unwrap() + 12..xml.find("</identifier>").unwrap()].to_owned();
    assert!(upgrade.contains("<references>") && upgrade.contains(&id_of(issue)));
    assert!(!issue.contains("<references>"), "an alert references only the steps before it");
    let (status, _) = call(&f, "GET", "/cap/LH-nowhere/1", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
