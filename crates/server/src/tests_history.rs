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

fn lang(lang: &str) -> crate::pages::Lang {
    crate::pages::Lang { lang: lang.to_owned(), ..Default::default() }
}

/// An audit detail that is a JSON object shows its fields by name in the page's language: a
/// level by its colour, times in Beijing time; the recorded JSON stays whole in the cell's title.
#[test]
fn an_audit_detail_reads_as_named_fields_in_the_pages_language() {
    use crate::audit_detail::detail_cell;
    let raw = json!({"level": "orange", "reason": "会商", "end": "2026-01-06T00:00:00+08:00",
        "start": "2026-01-04T16:00:00Z", "at": "2026-01-05T16:00:00Z"})
    .to_string();
    let head = format!("<td class=\"text\" title=\"{}\">", crate::escape(&raw));
    let zh = detail_cell(&lang(""), &raw);
    assert_eq!(
        zh,
        format!(
            "{head}<span>级别：橙色</span> · <span>理由：会商</span> · <span>开始：2026-01-05 00:00</span> · \
             <span>结束：2026-01-06 00:00</span> · <span>时间：2026-01-06 00:00</span></td>"
        )
    );
    assert!(!zh.contains("{\"") && !zh[head.len()..].contains("&quot;"), "no raw JSON is shown: {zh}");
    let en = detail_cell(&lang("en"), &raw);
    assert_eq!(
        en,
        format!(
            "{head}<span>Level: orange</span> · <span>Reason: 会商</span> · <span>Start: 2026-01-05 00:00</span> · \
             <span>End: 2026-01-06 00:00</span> · <span>Time: 2026-01-06 00:00</span></td>"
        )
    );

    // Lists, yes/no, an object one level down, a list of objects counted, an unknown key as
    // written, and a long value cut with the whole of it as its title.
    let long = "长".repeat(100);
    let raw = json!({"step": {"step": 2, "kind": "issue", "terms": {"level": "red"}, "by": "省厅"},
        "cities": ["luohe", "xuchang"], "health_advisory": true, "temporary_control": false,
        "reasons": [{"rule": "Y1"}, {"rule": "O1"}], "mystery": null, "reason": long})
    .to_string();
    let head = format!("<td class=\"text\" title=\"{}\">", crate::escape(&raw));
    let zh = detail_cell(&lang(""), &raw);
    let expected = [
        format!("<span>理由：<span title=\"{long}\">{}…</span></span>", "长".repeat(80)),
        "<span>定级依据：2 项</span>".to_owned(),
        "<span>城市：<code>luohe、xuchang</code></span>".to_owned(),
        "<span>健康提示：是</span>".to_owned(),
        "<span>临时管控：否</span>".to_owned(),
        "<span>步骤：类型=发布；提示要求=1 项；步骤=2；操作人=<code>省厅</code></span>".to_owned(),
        "<span><code>mystery</code>：-</span>".to_owned(),
    ];
    assert_eq!(zh, format!("{head}{}</td>", expected.join(" · ")));
    let en = detail_cell(&lang("en"), &raw);
    for part in [
        "<span>Cities: <code>luohe, xuchang</code></span>",
        "<span>Health advisory: yes</span>",
        "<span>Grounds: 2 items</span>",
        "<span>Step: Kind=issue; Terms=1 item; Step=2; By=<code>省厅</code></span>",
    ] {
        assert!(en.contains(part), "{part} in {en}");
    }
}

/// A detail that is not a JSON object shows as recorded.
#[test]
fn an_audit_detail_that_is_not_an_object_shows_as_written() {
    use crate::audit_detail::detail_cell;
    assert_eq!(detail_cell(&lang(""), "logout"), "<td class=\"text\"><code title=\"logout\">logout</code></td>");
    let inputs = r#"[{"name":"national","ok":true}]"#;
    let shown = "[{&quot;name&quot;:&quot;national&quot;,&quot;ok&quot;:true}]";
    assert_eq!(
        detail_cell(&lang("en"), inputs),
        format!("<td class=\"text\"><code title=\"{shown}\">{shown}</code></td>")
    );
    assert_eq!(
        detail_cell(&lang(""), "{not json"),
        "<td class=\"text\"><code title=\"{not json\">{not json</code></td>"
    );
}
