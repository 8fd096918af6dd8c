//! A refused form on a Chinese page says why in Chinese: the refusals the office's warning form,
//! the forecaster's review and a list import meet, as the checks give them, read from the
//! catalogue with only the user's own data left as written.

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt as _;

use crate::router;
use crate::tests::{Fixture, fixture};

/// Posts a form as a signed-in user and returns the message the page it lands on shows.
async fn refused(f: &Fixture, uri: &str, who: &str, body: &str) -> String {
    let csrf = crate::auth::csrf_of(&format!("session-{who}"));
    let req = Request::post(uri)
        .header(header::COOKIE, format!("hw_session=session-{who}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("{body}&csrf={csrf}")))
        .unwrap();
    let resp = router(f.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{uri} {body}");
    let location = resp.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let req = Request::get(&location)
        .header(header::COOKIE, format!("hw_session=session-{who}"))
        .body(Body::empty())
        .unwrap();
    let resp = router(f.state.clone()).oneshot(req).await.unwrap();
    let page = String::from_utf8(to_bytes(resp.into_body(), 1 << 24).await.unwrap().to_vec()).unwrap();
    let at = page.find("<p class=\"msg\">").unwrap_or_else(|| panic!("{location}: no message on the page"));
    let msg = &page[at + "<p class=\"msg\">".len()..];
    let msg = &msg[..msg.find("</p>").unwrap()];
    // The templates write character references as numbers.
    ["&#38;", "&#39;", "&#34;", "&#60;", "&#62;"]
        .iter()
        .zip("&'\"<>".chars())
        .fold(msg.to_owned(), |m, (r, c)| m.replace(r, &c.to_string()))
}

/// Asserts that `msg` has no English word but those of the user's own `data`.
fn reads_in_chinese(msg: &str, data: &[&str]) {
    let english: Vec<&str> =
        crate::messages::latin_words(msg).into_iter().filter(|w| !data.iter().any(|d| d.contains(w))).collect();
    assert!(english.is_empty(), "English {english:?} in {msg:?}");
}

#[tokio::test]
async fn a_refused_warning_step_on_the_chinese_office_page_says_why_in_chinese() {
    let f = fixture(1000).await;
    let issue = "step=issue&level=orange&start=2026-01-05T00%3A00&end=2026-01-08T00%3A00&reason=r";
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "a time that does not read",
            "step=issue&level=orange&start=2026-01-05T00%3A00&end=tomorrow&reason=r",
            &["tomorrow"],
        ),
        ("nothing in force to lift", "step=lift&reason=r", &[]),
        (
            "an end before the step",
            "step=issue&level=orange&start=2026-01-01T00%3A00&end=2026-01-02T00%3A00&reason=r",
            &[],
        ),
        ("no reason", "step=issue&level=orange&start=2026-01-05T00%3A00&end=2026-01-08T00%3A00&reason=", &[]),
    ];
    for (what, body, data) in cases {
        let msg = refused(&f, "/office/warning", "office", body).await;
        assert!(msg.starts_with("未执行"), "{what}: {msg}");
        reads_in_chinese(&msg, data);
    }
    let done = refused(&f, "/office/warning", "office", issue).await;
    assert!(done.contains("发布") && done.contains("橙色"), "the flash of a step taken is Chinese too: {done}");
    reads_in_chinese(&done, &[]);
    let after: &[(&str, &str)] = &[
        ("a second issue", issue),
        ("an upgrade that lowers", "step=upgrade&level=yellow&end=2026-01-08T00%3A00&reason=r"),
        ("an extension that shortens", "step=extend&end=2026-01-06T00%3A00&reason=r"),
        ("a downgrade that does not lower", "step=downgrade&level=orange&end=2026-01-08T00%3A00&reason=r"),
    ];
    for (what, body) in after {
        let msg = refused(&f, "/office/warning", "office", body).await;
        assert!(msg.starts_with("未执行"), "{what}: {msg}");
        reads_in_chinese(&msg, &[]);
    }
}

#[tokio::test]
async fn a_refused_adjustment_and_a_refused_list_say_why_in_chinese() {
    let f = fixture(1000).await;
    let l = crate::pages::Lang::default();
    // An adjustment out of range, as the review form's check gives it.
    let e = crate::forecaster_page::adjusted_aqi("aqi1", "9999").unwrap_err();
    let msg = crate::pages::page_error(&l, &e);
    assert!(msg.contains("9999"), "{msg}");
    reads_in_chinese(&msg, &[]);
    // A list with a bad grade, a bad mobile number and a missing name, as an import refuses it.
    let good = std::fs::read_to_string(crate::tests::repo().join("data/lists/luohe-illustrative.csv")).unwrap();
    let mut lines: Vec<String> = good.lines().map(str::to_owned).collect();
    let header: Vec<&str> = lines[0].trim_start_matches('\u{feff}').split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let mut row: Vec<String> = lines[1].split(',').map(str::to_owned).collect();
    row[col("grade")] = "E".into();
    row[col("mobile")] = "12345".into();
    row[col("name")] = String::new();
    lines[1] = row.join(",");
    let bytes = lines.join("\n");
    let err: crate::ApiError = f.state.city.preview_list("bad-list.csv", bytes.as_bytes()).await.unwrap_err().into();
    let crate::ApiError::Invalid(detail) = &err else { panic!("{err:?}") };
    assert!(detail.lines().count() >= 4, "a first line and a line per problem: {detail}");
    let msg = crate::pages::refusal(&l, detail);
    assert!(msg.contains("bad-list.csv") && msg.contains("12345"), "{msg}");
    reads_in_chinese(&msg, &["bad-list.csv"]);
    // The English page keeps the check's own words.
    let en = crate::pages::Lang { lang: "en".into(), ..Default::default() };
    assert_eq!(crate::pages::refusal(&en, detail), *detail);
}
