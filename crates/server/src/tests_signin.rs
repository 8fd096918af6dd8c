//! Signing in: the browser's cookie holds a session id, never a token; sessions end at logout,
//! expiry and when the account is disabled; an enterprise signs in with a one-time code e-mailed
//! by a real SMTP server on loopback, which expires, locks after five wrong tries and is
//! rate-limited per account and per address.

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use hazewarn_testkit::smtp::SmtpServer;
use tower::ServiceExt as _;

use crate::router;
use crate::tests::{ENTERPRISE_A, Fixture, fixture, fixture_with};

async fn send(f: &Fixture, req: Request<Body>) -> (StatusCode, HeaderMap, String) {
    let resp = router(f.state.clone()).oneshot(req).await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    (status, headers, String::from_utf8(to_bytes(resp.into_body(), 1 << 24).await.unwrap().to_vec()).unwrap())
}

fn form(uri: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

fn get(uri: &str, cookie: &str) -> Request<Body> {
    Request::get(uri).header(header::COOKIE, cookie).body(Body::empty()).unwrap()
}

/// Whether a page answered by sending the browser to sign in.
fn to_login(r: &(StatusCode, HeaderMap, String)) -> bool {
    r.0 == StatusCode::SEE_OTHER && r.1[header::LOCATION].to_str().unwrap().starts_with("/login")
}

/// `hw_session=…` from a response's Set-Cookie.
fn session_of(h: &HeaderMap) -> String {
    h[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_cookie_holds_a_session_that_logout_expiry_and_disabling_end() {
    let f = fixture(1000).await;
    let (status, h, _) = send(&f, form("/login", "token=token-office")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cookie = session_of(&h);
    assert!(cookie.starts_with("hw_session=") && !cookie.contains("token-office"), "{cookie}");
    assert_eq!(send(&f, get("/office", &cookie)).await.0, StatusCode::OK);
    // The old way, a token in the cookie, signs in nobody.
    assert!(to_login(&send(&f, get("/office", "hw_token=token-office")).await));

    let csrf = crate::auth::csrf_of(cookie.trim_start_matches("hw_session="));
    let logout = Request::post(format!("/logout?csrf={csrf}"))
        .header(header::COOKIE, &cookie)
        .header("sec-fetch-site", "same-origin")
        .body(Body::empty())
        .unwrap();
    let (status, h, _) = send(&f, logout).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(h[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    assert!(to_login(&send(&f, get("/office", &cookie)).await), "a session ended by logout is gone");

    // Expiry: the fixture's own session, twelve hours on.
    assert_eq!(send(&f, get("/office", "hw_session=session-office")).await.0, StatusCode::OK);
    f.clock.set(f.state.city.now() + chrono::Duration::hours(12));
    assert!(to_login(&send(&f, get("/office", "hw_session=session-office")).await));

    // A browser still holding the ended session's cookie signs in again.
    let again = Request::post("/login")
        .header(header::COOKIE, &cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from("token=token-office"))
        .unwrap();
    assert_eq!(send(&f, again).await.0, StatusCode::SEE_OTHER);

    // Disabling ends every session and the token.
    let (_, h, _) = send(&f, form("/login", "token=token-ent-a")).await;
    let ent = session_of(&h);
    assert_eq!(send(&f, get("/enterprise", &ent)).await.0, StatusCode::OK);
    f.state.city.store.set_disabled("ent-a", true, "office", f.state.city.now()).await.unwrap();
    assert!(to_login(&send(&f, get("/enterprise", &ent)).await));
    assert_eq!(send(&f, form("/login", "token=token-ent-a")).await.0, StatusCode::UNAUTHORIZED);
}

const MAIL: &str = "[links]\nbase_url = \"https://hw.luohe.gov.cn\"\nsecret = \"server-test-link-secret-0123456789abcdef\"\n\
    [[channels]]\nkind = \"smtp\"\nname = \"mail\"\nhost = \"127.0.0.1\"\nport = {port}\nfrom = \"duty@luohe.example.com\"\ntls = \"none\"\n";

/// The code in the latest mail to `to`.
fn code_mailed(smtp: &SmtpServer, to: &str) -> String {
    let got = smtp.received.lock().unwrap();
    let m = got.iter().rev().find(|m| m.to == [to.to_owned()]).expect("a code was mailed");
    let parsed = mail_parser::MessageParser::default().parse(&m.data).unwrap();
    let text = parsed.body_text(0).unwrap().into_owned();
    text.split("验证码为 ").nth(1).unwrap()[..6].to_owned()
}

#[tokio::test]
async fn an_enterprise_signs_in_with_a_code_that_expires_locks_and_is_rate_limited() {
    let (f, smtp, accounts) = code_city().await;
    let store = &f.state.city.store;
    let (_, list) = f.state.city.list().await.unwrap();
    assert_eq!(store.accounts().await.unwrap().len(), list.enterprises.len() + 4, "the list's and the fixture's four");
    let email = accounts.iter().find(|a| a.0 == ENTERPRISE_A).unwrap().2.clone().unwrap();

    let (status, _, page) = send(&f, form("/login/code", &format!("account={ENTERPRISE_A}"))).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let code = code_mailed(&smtp, &email);
    assert!(code.chars().all(|c| c.is_ascii_digit()), "{code}");
    // One code a minute per account.
    assert_eq!(
        send(&f, form("/login/code", &format!("account={ENTERPRISE_A}"))).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let (status, _, page) = send(&f, form("/login/verify", &format!("account={ENTERPRISE_A}&code={wrong}"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(page.contains("剩余尝试次数：4"), "{page}");
    let (status, h, _) = send(&f, form("/login/verify", &format!("account={ENTERPRISE_A}&code={code}"))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let page = send(&f, get("/enterprise", &session_of(&h))).await.2;
    assert!(page.contains(ENTERPRISE_A) || page.contains("暂无通知"), "{page}");
    // Used once.
    let (status, _, _) = send(&f, form("/login/verify", &format!("account={ENTERPRISE_A}&code={code}"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Expiry: five minutes.
    f.clock.set(f.state.city.now() + chrono::Duration::seconds(61));
    assert_eq!(send(&f, form("/login/code", &format!("account={ENTERPRISE_A}"))).await.0, StatusCode::OK);
    let code = code_mailed(&smtp, &email);
    f.clock.set(f.state.city.now() + chrono::Duration::minutes(5));
    assert_eq!(
        send(&f, form("/login/verify", &format!("account={ENTERPRISE_A}&code={code}"))).await.0,
        StatusCode::UNAUTHORIZED
    );

    // Lock-out: five wrong codes, then even the right one is refused, and no new code for a while.
    let b = accounts.iter().find(|a| a.0 != ENTERPRISE_A).unwrap();
    assert_eq!(send(&f, form("/login/code", &format!("account={}", b.0))).await.0, StatusCode::OK);
    let right = code_mailed(&smtp, b.2.as_ref().unwrap());
    let wrong = if right == "000000" { "000001" } else { "000000" };
    for _ in 0..4 {
        assert_eq!(
            send(&f, form("/login/verify", &format!("account={}&code={wrong}", b.0))).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        send(&f, form("/login/verify", &format!("account={}&code={wrong}", b.0))).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    let (status, _, page) = send(&f, form("/login/verify", &format!("account={}&code={right}", b.0))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.contains("id=\"refused\">错误次数过多"), "{page}");
    f.clock.set(f.state.city.now() + chrono::Duration::minutes(2));
    let (status, headers, page) = send(&f, form("/login/code", &format!("account={}", b.0))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // A browser is told on a page in its language, with when to try again.
    assert!(page.contains("操作过于频繁") && headers.contains_key(header::RETRY_AFTER), "{page}");

    // Per address: a handful of code requests a minute, whichever accounts they name.
    let mut statuses = Vec::new();
    for a in accounts.iter().skip(2).take(6) {
        statuses.push(send(&f, form("/login/code", &format!("account={}", a.0))).await.0);
    }
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    assert!(store.verify_audit().await.unwrap().ok());
}

/// A fixture with the illustrative list's enterprises as accounts, mailing codes to a loopback
/// SMTP server.
async fn code_city() -> (Fixture, SmtpServer, Vec<(String, Option<String>, Option<String>, String)>) {
    let smtp = SmtpServer::default();
    let port = smtp.start().await;
    let f = fixture_with(1000, &MAIL.replace("{port}", &port.to_string())).await;
    let (_, list) = f.state.city.list().await.unwrap();
    let accounts: Vec<_> = list
        .enterprises
        .iter()
        .map(|e| {
            (
                e.credit_code.to_string(),
                e.contacts.mobile.clone(),
                e.contacts.email.clone(),
                format!("x-{}", e.credit_code),
            )
        })
        .collect();
    f.state.city.store.import_enterprise_accounts(&accounts, "office", f.state.city.now()).await.unwrap();
    (f, smtp, accounts)
}

#[tokio::test]
async fn wrong_codes_count_across_codes_so_a_new_code_does_not_reset_the_lock() {
    let (f, smtp, accounts) = code_city().await;
    let c = &accounts[1];
    let code_of = |a: &(String, Option<String>, Option<String>, String)| code_mailed(&smtp, a.2.as_ref().unwrap());
    assert_eq!(send(&f, form("/login/code", &format!("account={}", c.0))).await.0, StatusCode::OK);
    let wrong = if code_of(c) == "000000" { "000001" } else { "000000" };
    for _ in 0..4 {
        assert_eq!(
            send(&f, form("/login/verify", &format!("account={}&code={wrong}", c.0))).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    f.clock.set(f.state.city.now() + chrono::Duration::seconds(61));
    let fresh = send(&f, form("/login/code", &format!("account={}", c.0))).await;
    assert_eq!(fresh.0, StatusCode::OK, "{}", fresh.2);
    let right = code_of(c);
    let wrong = if right == "000000" { "000001" } else { "000000" };
    assert_eq!(
        send(&f, form("/login/verify", &format!("account={}&code={wrong}", c.0))).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        send(&f, form("/login/verify", &format!("account={}&code={right}", c.0))).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Fifteen minutes after the fifth wrong code: a new code, and it works.
    f.clock.set(f.state.city.now() + chrono::Duration::minutes(15));
    assert_eq!(send(&f, form("/login/code", &format!("account={}", c.0))).await.0, StatusCode::OK);
    let code = code_of(c);
    assert_eq!(send(&f, form("/login/verify", &format!("account={}&code={code}", c.0))).await.0, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_office_opens_accounts_from_the_list_and_disables_one_on_its_page() {
    let f = fixture(1000).await;
    let csrf = crate::auth::csrf_of("session-office");
    let office = |uri: &str, body: &str| {
        Request::post(format!("{uri}?csrf={csrf}"))
            .header(header::COOKIE, "hw_session=session-office")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(body.to_owned()))
            .unwrap()
    };
    let (_, list) = f.state.city.list().await.unwrap();
    let (status, h, _) = send(&f, office("/office/accounts-import", "")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let said = urlencoding_decode(h[header::LOCATION].to_str().unwrap());
    assert!(said.contains(&format!("{} 个账号已开通", list.enterprises.len())), "{said}");
    let page = send(&f, get("/office", "hw_session=session-office")).await.2;
    let code = list.enterprises[0].credit_code.to_string();
    assert!(page.contains("id=\"accounts\"") && page.contains(&code), "the accounts table lists {code}");
    let (status, _, _) = send(&f, office("/office/account", &format!("name={code}&action=disable"))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let accounts = f.state.city.store.accounts().await.unwrap();
    assert!(accounts.iter().find(|a| a.name == code).unwrap().disabled_at.is_some());
    // The office may not lock itself out, and an enterprise may not manage accounts.
    let (_, h, _) = send(&f, office("/office/account", "name=office&action=disable")).await;
    assert!(urlencoding_decode(h[header::LOCATION].to_str().unwrap()).contains("不能停用自己正在使用的账号"));
    let by_enterprise = Request::post(format!("/office/account?csrf={}", crate::auth::csrf_of("session-ent-a")))
        .header(header::COOKIE, "hw_session=session-ent-a")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from("name=office&action=disable"))
        .unwrap();
    let (_, h, _) = send(&f, by_enterprise).await;
    assert!(urlencoding_decode(h[header::LOCATION].to_str().unwrap()).contains("当前账号无权执行此操作"));
    assert!(f.state.city.store.accounts().await.unwrap().iter().all(|a| a.name != "office" || a.disabled_at.is_none()));
    // A forecaster's new token is shown once on the answering page; the old one stops working.
    let (status, _, page) = send(&f, office("/office/account", "name=fc&action=rotate")).await;
    assert_eq!(status, StatusCode::OK);
    let token =
        page.split("<code id=\"new-token\" class=\"secret\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert_eq!(token.len(), 64);
    assert_eq!(send(&f, form("/login", "token=token-fc")).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&f, form("/login", &format!("token={token}"))).await.0, StatusCode::SEE_OTHER);
}

/// A redirect's `msg=` as text.
fn urlencoding_decode(location: &str) -> String {
    let query = location.split_once('?').map_or("", |(_, q)| q);
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
    pairs.into_iter().find(|(k, _)| k == "msg").map(|(_, v)| v).unwrap_or_default()
}

#[tokio::test]
async fn the_office_sees_each_monitor_with_what_the_receiver_took_from_it() {
    let device = "[[devices]]\nmn = \"LH0001\"\npassword = \"123456\"\ncredit_code = \"91411100MA4007919J\"\n\
                  line = \"1#生产线\"\noutlet = \"DA001\"\ncodes = [\"a34013\"]\n";
    let f = fixture_with(1000, device).await;
    let segment =
        "QN=1;ST=31;CN=2011;PW=123456;MN=LH0001;Flag=4;CP=&&DataTime=20260104155000;a34013-Rtd=6.5,a34013-Flag=N&&";
    let crc = segment.bytes().fold(0xFFFFu16, |r, b| {
        (0..8).fold((r >> 8) ^ u16::from(b), |c, _| if c & 1 == 1 { (c >> 1) ^ 0xA001 } else { c >> 1 })
    });
    let frame = format!("##{:04}{segment}{crc:04X}\r\n", segment.len());
    assert_eq!(f.state.city.take_frame(frame.as_bytes(), "127.0.0.1:5").await.unwrap(), None, "Flag=4 asks no answer");
    let page = send(&f, get("/office", "hw_session=session-office")).await.2;
    let table = &page[page.find("id=\"devices\"").expect("a devices table")..];
    let row = &table[table.find("<td>LH0001</td>").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert_eq!(
        row,
        "<td>LH0001</td><td>示例水泥企业01有限公司</td><td>1#生产线 / DA001</td><td>1</td><td>1</td><td>0</td><td>0</td>\
         <td>2026-01-04 15:50</td>"
    );
}

#[tokio::test]
async fn a_refused_token_shows_sign_in_again_and_the_language_switch_leads_to_a_page_that_exists() {
    let f = fixture(1000).await;
    let (status, _, page) = send(&f, form("/login", "token=not-a-token-of-anyone")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(page.contains("<p class=\"msg\" id=\"refused\">令牌无效</p>"), "{page}");
    assert!(page.contains("id=\"token\""), "the form to try again: {page}");
    // A form's answer cannot be fetched again: its switch leads to the sign-in page itself.
    assert!(page.contains("<a href=\"/login?lang=en\" id=\"lang\">English</a>"), "{page}");
    // A page fetched keeps its query, without the language and a one-time message.
    let req = Request::get("/office/history?year=2026&msg=x&lang=en")
        .header(header::COOKIE, "hw_session=session-office")
        .body(Body::empty())
        .unwrap();
    let (_, _, page) = send(&f, req).await;
    assert!(page.contains("<a href=\"/office/history?year=2026\" id=\"lang\">中文</a>"), "{page}");
}

#[tokio::test]
async fn reloading_a_forms_answer_leads_to_the_roles_page_and_the_api_still_says_405() {
    let f = fixture(1000).await;
    for (uri, to) in [
        ("/office/list", "/office"),
        ("/office/list-file?csrf=x&lang=en", "/office?lang=en"),
        ("/office/warning", "/office"),
        ("/login/code", "/login"),
    ] {
        let (status, h, _) = send(&f, get(uri, "hw_session=session-office")).await;
        assert_eq!(
            (status, h.get(header::LOCATION).and_then(|v| v.to_str().ok())),
            (StatusCode::SEE_OTHER, Some(to)),
            "{uri}"
        );
    }
    let (status, h, body) = send(&f, get("/api/v1/notices/x/ack", "hw_session=session-office")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(h.contains_key(header::ALLOW) && body.contains("method_not_allowed"), "{body}");
}
