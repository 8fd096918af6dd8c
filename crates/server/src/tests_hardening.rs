//! Regression tests for the hardening issue, each named after what it guards.

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use chrono::Duration;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::router;
use crate::tests::{Fixture, call, fixture, issue_orange};

#[tokio::test]
async fn serve_stops_with_an_error_when_its_scheduler_dies() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, _) = tokio::sync::watch::channel(false);
    let dying = async { Err(hazewarn_scheduler::SchedulerError::Job("lost its store".into())) };
    let never = std::future::pending::<()>();
    let r = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        crate::supervise(listener, axum::Router::new(), dying, stop, never),
    )
    .await
    .expect("serving stopped");
    let e = r.unwrap_err().to_string();
    assert_eq!(e, "the scheduler stopped: job: lost its store");
}

#[tokio::test]
async fn serve_stops_cleanly_on_its_signal() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, mut rx) = tokio::sync::watch::channel(false);
    let background = async move {
        let _ = rx.wait_for(|s| *s).await;
        Ok(())
    };
    let signal = tokio::time::sleep(std::time::Duration::from_millis(50));
    crate::supervise(listener, axum::Router::new(), background, stop, signal).await.unwrap();
}

#[tokio::test]
async fn readyz_fails_until_the_scheduler_runs_and_when_a_job_is_overdue() {
    let f = fixture(100).await;
    let (status, body) = call(&f, "GET", "/healthz", None, None).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (status, body) = call(&f, "GET", "/readyz", None, None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["ready"], false);

    let city = &f.state.city;
    let now = chrono::Utc::now();
    city.health.scheduler_started(now);
    let (status, _) = call(&f, "GET", "/readyz", None, None).await;
    assert_eq!(status, StatusCode::OK);
    // The default dispatch runs every 30 s with 900 s of grace: 16 minutes of silence is overdue.
    city.health.scheduler_started(now - Duration::minutes(16));
    for job in ["ingest", "forecast", "evaluate", "verify", "follow-up", "compliance"] {
        city.health.record(job, now, true);
    }
    let (status, body) = call(&f, "GET", "/readyz", None, None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body["jobs"][0].get("last_detail").is_none(), "job details stay in the log: {body}");
    let overdue: Vec<&str> = body["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["overdue"] == true)
        .map(|j| j["job"].as_str().unwrap())
        .collect();
    assert_eq!(overdue, ["dispatch"]);
}

/// A request with headers and a raw body, answered by the router.
async fn raw(f: &Fixture, req: Request<Body>) -> (StatusCode, HeaderMap, String) {
    let resp = router(f.state.clone()).oneshot(req).await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let bytes = to_bytes(resp.into_body(), 1 << 24).await.unwrap();
    (status, headers, String::from_utf8_lossy(&bytes).into_owned())
}

fn form_post(uri: &str, cookie_of: &str) -> axum::http::request::Builder {
    Request::builder()
        .method("POST")
        .uri(uri)
        .header(header::COOKIE, format!("hw_session=session-{cookie_of}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
}

fn orange_form(csrf: Option<&str>) -> String {
    let mut body = "step=issue&level=orange&start=2026-01-05T00%3A00%3A00%2B08%3A00&end=2026-01-08T00%3A00%3A00%2B08%3A00&reason=x".to_owned();
    if let Some(c) = csrf {
        body += &format!("&csrf={c}");
    }
    body
}

#[tokio::test]
async fn a_cookie_authenticated_change_from_another_site_is_refused() {
    let f = fixture(1000).await;
    let token = crate::auth::csrf_of("session-office");
    for (name, value) in [("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")] {
        let req =
            form_post("/office/warning", "office").header(name, value).body(Body::from(orange_form(Some(&token))));
        let (status, _, body) = raw(&f, req.unwrap()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}: {body}");
        assert!(body.contains("\"csrf\""), "{body}");
    }
    // A list upload as text/plain from another site is refused too, before it is read.
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/lists?name=x.csv")
        .header(header::COOKIE, "hw_session=session-office")
        .header(header::CONTENT_TYPE, "text/plain")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from("credit_code\n"))
        .unwrap();
    assert_eq!(raw(&f, req).await.0, StatusCode::FORBIDDEN);
    assert!(f.state.city.store.warning_in_force().await.unwrap().is_none());
}

#[tokio::test]
async fn a_cookie_authenticated_form_needs_its_sessions_csrf_token() {
    let f = fixture(1000).await;
    let other = crate::auth::csrf_of("session-fc");
    for csrf in [None, Some(other.as_str())] {
        let req = form_post("/office/warning", "office").header("sec-fetch-site", "same-origin");
        let (status, _, body) = raw(&f, req.body(Body::from(orange_form(csrf))).unwrap()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{csrf:?}: {body}");
    }
    assert!(f.state.city.store.warning_in_force().await.unwrap().is_none());
    // The page's own form carries the token, and with it the step is carried out.
    let (_, _, page) = raw(
        &f,
        Request::get("/office").header(header::COOKIE, "hw_session=session-office").body(Body::empty()).unwrap(),
    )
    .await;
    let mine = crate::auth::csrf_of("session-office");
    assert!(page.contains(&format!("name=\"csrf\" value=\"{mine}\"")), "{page}");
    let req = form_post("/office/warning", "office").header("sec-fetch-site", "same-origin");
    let (status, headers, _) = raw(&f, req.body(Body::from(orange_form(Some(&mine)))).unwrap()).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(headers[header::LOCATION].to_str().unwrap().starts_with("/office?msg="));
    assert!(f.state.city.store.warning_in_force().await.unwrap().is_some());
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let f = fixture(1000).await;
    for uri in ["/", "/login", "/api/v1/public/current", "/cap.xml"] {
        let (_, h, _) = raw(&f, Request::get(uri).body(Body::empty()).unwrap()).await;
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY", "{uri}");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{uri}");
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'"), "{uri}: {csp}");
    }
}

#[tokio::test]
async fn the_session_cookie_is_secure_behind_tls() {
    let f = fixture(1000).await;
    let login = |proto: Option<&str>| {
        let mut r = Request::post("/login").header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(p) = proto {
            r = r.header("x-forwarded-proto", p);
        }
        r.body(Body::from("token=token-office")).unwrap()
    };
    let (_, h, _) = raw(&f, login(Some("https"))).await;
    let cookie = h[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.ends_with("; Secure"),
        "{cookie}"
    );
    let (_, h, _) = raw(&f, login(None)).await;
    assert!(!h[header::SET_COOKIE].to_str().unwrap().contains("Secure"));
}

#[tokio::test]
async fn every_api_failure_has_the_one_error_shape() {
    let f = fixture(1000).await;
    let office = "Bearer token-office";
    let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
        (
            Request::post("/api/v1/warnings")
                .header(header::AUTHORIZATION, office)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{not json"))
                .unwrap(),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            Request::post("/api/v1/warnings").header(header::AUTHORIZATION, office).body(Body::from("{}")).unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            Request::post("/api/v1/warnings")
                .header(header::AUTHORIZATION, office)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(r#"{"step":"explode","reason":"x"}"#))
                .unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            Request::get("/api/v1/plan?lvl=red").header(header::AUTHORIZATION, office).body(Body::empty()).unwrap(),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            Request::delete("/api/v1/warnings").header(header::AUTHORIZATION, office).body(Body::empty()).unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            Request::post("/api/v1/lists?name=x.csv")
                .header(header::AUTHORIZATION, office)
                .body(Body::from(vec![b'a'; crate::MAX_BODY_BYTES + 1]))
                .unwrap(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
    ];
    for (req, status, code) in cases {
        let what = format!("{} {}", req.method(), req.uri());
        let (got, headers, body) = raw(&f, req).await;
        assert_eq!(got, status, "{what}: {body}");
        assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/json"), "{what}");
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{what}: {e}: {body}"));
        assert_eq!(v["error"]["code"], code, "{what}: {body}");
        assert!(!v["error"]["message"].as_str().unwrap().is_empty(), "{what}");
    }
}

#[tokio::test]
async fn a_forbidden_caller_gets_403_before_its_body_is_parsed() {
    let f = fixture(1000).await;
    for (uri, who) in
        [("/api/v1/warnings", "fc"), ("/api/v1/forecasts/x/reviews", "office"), ("/api/v1/lists?name=x.csv", "ent-a")]
    {
        let req = Request::post(uri)
            .header(header::AUTHORIZATION, format!("Bearer token-{who}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{garbage"))
            .unwrap();
        let (status, _, body) = raw(&f, req).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri} as {who}: {body}");
    }
}

#[tokio::test]
async fn the_openapi_document_lists_the_error_statuses_and_enums() {
    let f = fixture(1000).await;
    let (_, doc) = call(&f, "GET", "/api/v1/openapi.json", None, None).await;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{method} {path} has no summary");
            let statuses: Vec<&str> = op["responses"].as_object().unwrap().keys().map(String::as_str).collect();
            let mut want = vec!["400", "404", "429"];
            if op["security"].is_array() {
                want.extend(["401", "403"]);
            }
            if method == "post" {
                want.extend(["409", "413", "415", "422"]);
            }
            for s in want {
                assert!(statuses.contains(&s), "{method} {path} lacks {s}: {statuses:?}");
            }
        }
    }
    let schemas = &doc["components"]["schemas"];
    let values = |name: &str| -> Vec<String> {
        schemas[name]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: {}", schemas[name]))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(values("StepName"), ["approve", "issue", "upgrade", "downgrade", "extend", "lift"]);
    assert_eq!(values("LevelName"), ["yellow", "orange", "red"]);
    assert_eq!(values("ActionName"), ["approve", "adjust", "annotate"]);
}

#[tokio::test]
async fn a_newline_in_a_form_field_is_encoded_into_the_redirect() {
    let f = fixture(1000).await;
    let csrf = crate::auth::csrf_of("session-office");
    let body = format!("step=issue&level=orange&start=x%0D%0ASet-Cookie%3A+a%3Db&end=&reason=r&csrf={csrf}");
    let req = form_post("/office/warning", "office").body(Body::from(body)).unwrap();
    let (status, headers, _) = raw(&f, req).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = headers[header::LOCATION].to_str().unwrap();
    assert!(
        location.starts_with("/office?msg=") && !location.contains('\n') && location.contains("%0D%0A"),
        "{location}"
    );
    assert!(!headers.contains_key(header::SET_COOKIE));
}

#[tokio::test]
async fn text_fields_and_warning_windows_are_bounded() {
    let f = fixture(1000).await;
    let step = |reason: &str, end: &str| json!({"step": "issue", "level": "orange", "start": "2026-01-05T00:00:00+08:00", "end": end, "reason": reason});
    let cases = [
        (step("x", "9999-12-31T00:00:00+08:00"), "more than 15 days after"),
        (step("x", "2026-01-03T00:00:00+08:00"), "is not after the time of this step"),
        (step(&"长".repeat(crate::api::MAX_NOTE_CHARS), "2026-01-08T00:00:00+08:00"), "at most 2000"),
        (step("会商\u{1}后发布", "2026-01-08T00:00:00+08:00"), "U+0001"),
        (step("会商\u{b}后发布", "2026-01-08T00:00:00+08:00"), "U+000B"),
    ];
    for (body, says) in cases {
        let (status, v) = call(&f, "POST", "/api/v1/warnings", Some("office"), Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(v["error"]["message"].as_str().unwrap().contains(says), "{says}: {v}");
    }
    assert!(f.state.city.store.warning_in_force().await.unwrap().is_none());
    // Fifteen days exactly is allowed.
    let (status, v) =
        call(&f, "POST", "/api/v1/warnings", Some("office"), Some(step("x", "2026-01-20T00:00:00+08:00"))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let note = json!({"action": "annotate", "note": "注".repeat(crate::api::MAX_NOTE_CHARS + 1)});
    let (status, v) = call(&f, "POST", "/api/v1/forecasts/x/reviews", Some("fc"), Some(note)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
}

#[tokio::test]
async fn the_public_alert_stays_well_formed_xml_for_text_stored_before_inputs_were_checked() {
    let f = fixture(1000).await;
    // A warning whose reason holds control characters, written straight to the store as an
    // older version could have.
    let at = chrono::DateTime::parse_from_rfc3339("2026-01-04T16:00:00+08:00").unwrap();
    let (start, end) = (at + Duration::hours(8), at + Duration::days(3));
    let who = hazewarn_response::Actor { by: "office", at, reason: "会商\u{1}后\u{b}发布", forecast_id: "manual" };
    let mut w =
        hazewarn_response::Warning::draft("LH-20260105", hazewarn_response::WarningLevel::Orange, start, end, &who)
            .unwrap();
    w.issue(&who).unwrap();
    let mut tx = f.state.city.store.write().await.unwrap();
    tx.save_warning(&w).await.unwrap();
    tx.commit().await.unwrap();
    for uri in ["/cap.xml", "/feed.atom"] {
        let (status, body) = call(&f, "GET", uri, None, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let text = body.as_str().unwrap();
        roxmltree::Document::parse(text).unwrap_or_else(|e| panic!("{uri}: {e}"));
        assert!(text.contains("会商后发布"), "{uri}: {text}");
    }
}

#[tokio::test]
async fn only_the_enterprise_acknowledges_and_the_office_records_a_phone_call() {
    let f = fixture(1000).await;
    f.state
        .city
        .store
        .add_user(
            &hazewarn_store::users::User {
                name: "root".into(),
                role: hazewarn_store::users::Role::Admin,
                credit_code: None,
            },
            "token-root",
            "test",
            f.state.city.now(),
        )
        .await
        .unwrap();
    issue_orange(&f).await;
    let (_, mine) = call(&f, "GET", "/api/v1/notices", Some("ent-a"), None).await;
    let id = mine[0]["notice"]["id"].as_str().unwrap().to_owned();
    for who in ["root", "office"] {
        let (status, v) = call(&f, "POST", &format!("/api/v1/notices/{id}/ack"), Some(who), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {v}");
    }
    let phone = json!({"received_from": "张三 13800000000", "reason": "企业无法登录"});
    let (status, v) =
        call(&f, "POST", &format!("/api/v1/notices/{id}/phone-acknowledgement"), Some("office"), Some(phone.clone()))
            .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["acknowledged_via"], "phone");
    assert_eq!(v["acknowledged_by"], "office");
    assert_eq!(v["acknowledgement_note"], "by phone from 张三 13800000000: 企业无法登录");
    let (status, _) =
        call(&f, "POST", &format!("/api/v1/notices/{id}/phone-acknowledgement"), Some("ent-a"), Some(phone)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let audit = f.state.city.store.audit_tail(50).await.unwrap();
    assert!(audit.iter().any(|a| a.action == "notice-acknowledge-phone" && a.subject == id), "{audit:?}");
}

#[tokio::test]
async fn invalid_tokens_and_sign_ins_are_limited_by_address_with_retry_after() {
    let f = fixture(1000).await;
    let mut last = None;
    for _ in 0..=crate::FAILURES_PER_MINUTE {
        let req =
            Request::get("/api/v1/notices").header(header::AUTHORIZATION, "Bearer wrong").body(Body::empty()).unwrap();
        last = Some(raw(&f, req).await);
    }
    let (status, headers, _) = last.unwrap();
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = headers[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let login = |token: &str| {
        let body = Body::from(format!("token={token}"));
        Request::post("/login").header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(body).unwrap()
    };
    assert_eq!(
        raw(&f, login("wrong")).await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "the same address is limited at sign-in too"
    );
    // Once the failures are spent, even a right token is refused until the window opens.
    assert_eq!(raw(&f, login("token-office")).await.0, StatusCode::TOO_MANY_REQUESTS);
    let right = Request::get("/api/v1/notices")
        .header(header::AUTHORIZATION, "Bearer token-office")
        .body(Body::empty())
        .unwrap();
    assert_eq!(raw(&f, right).await.0, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let f = fixture(1000).await;
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let req = Request::get("/api/v1/notices")
            .header(header::AUTHORIZATION, format!("{scheme} token-office"))
            .body(Body::empty())
            .unwrap();
        assert_eq!(raw(&f, req).await.0, StatusCode::OK, "{scheme}");
    }
    let req = Request::get("/api/v1/notices")
        .header(header::AUTHORIZATION, "Basic token-office")
        .body(Body::empty())
        .unwrap();
    assert_eq!(raw(&f, req).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_office_picks_a_window_in_beijing_time_and_sees_labelled_fields() {
    let f = fixture(1000).await;
    let csrf = crate::auth::csrf_of("session-office");
    // What a browser's date-time picker sends: local time, no offset.
    let body = format!("step=issue&level=orange&start=2026-01-05T00%3A00&end=2026-01-08T12%3A00&reason=r&csrf={csrf}");
    let req = form_post("/office/warning", "office").body(Body::from(body)).unwrap();
    let (status, _, _) = raw(&f, req).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let w = f.state.city.store.warning_in_force().await.unwrap().expect("issued");
    assert_eq!(w.current().start.to_rfc3339(), "2026-01-05T00:00:00+08:00");
    assert_eq!(w.current().end.to_rfc3339(), "2026-01-08T12:00:00+08:00");
    let req = Request::get("/office").header(header::COOKIE, "hw_session=session-office").body(Body::empty()).unwrap();
    let (_, _, page) = raw(&f, req).await;
    assert!(page.contains("<label>结束（北京时间） <input type=\"datetime-local\" name=\"end\""), "{page}");
    // A time that does not read: the page says so in Chinese first, then names the field's value.
    let body = format!("step=upgrade&level=red&end=tomorrow&reason=r&csrf={csrf}");
    let (status, headers, _) = raw(&f, form_post("/office/warning", "office").body(Body::from(body)).unwrap()).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = headers[header::LOCATION].to_str().unwrap();
    let lead = crate::pages::percent_encode("未执行，填写有误：`tomorrow`");
    assert!(location.starts_with(&format!("/office?msg={lead}")), "{location}");
    // The upgrade form offers red first, the downgrade form yellow.
    let upgrade = &page[page.find("value=\"upgrade\"").unwrap()..];
    assert!(upgrade[..upgrade.find("</select>").unwrap()].contains("<option value=\"red\" selected>"));
}

#[tokio::test]
async fn metrics_give_an_operator_job_lag_outbox_depth_dead_letters_and_the_last_cycle() {
    let f = fixture(100).await;
    let city = &f.state.city;
    let now = chrono::Utc::now();
    // Started 16 minutes ago; the forecast last succeeded an hour ago, verify failed.
    city.health.scheduler_started(now - Duration::minutes(16));
    city.health.record("forecast", now - Duration::hours(1), true);
    // A later forecast failed: the last success still shows when one last worked.
    city.health.record("forecast", now - Duration::minutes(10), false);
    city.health.record("verify", now - Duration::minutes(5), false);
    // Three messages: one sent, one dead, one still pending.
    crate::tests::enqueue_hook_messages(&city.store, "M", 3, city.now()).await;
    let claimed = city.store.claim_due("test", city.now(), Duration::minutes(5), 2, None).await.unwrap();
    let outcomes = [
        hazewarn_store::DeliveryOutcome::Sent { detail: "202".into() },
        hazewarn_store::DeliveryOutcome::Dead { error: "410 gone".into() },
    ];
    for (e, outcome) in claimed.iter().zip(outcomes) {
        assert!(city.store.record_attempt(&e.id, e.lease.as_ref().unwrap(), city.now(), &outcome).await.unwrap());
    }

    let req = Request::builder().uri("/metrics").body(Body::empty()).unwrap();
    let (status, headers, text) = raw(&f, req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/plain; version=0.0.4; charset=utf-8");
    // The exposition format: each family's HELP and TYPE come before its samples, and every
    // sample is `name{labels} value` with a number.
    let mut declared = std::collections::HashSet::new();
    let mut samples = std::collections::HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert_eq!(kind, "gauge");
            declared.insert(name.to_owned());
        } else if !line.starts_with("# HELP ") {
            let (series, value) = line.rsplit_once(' ').unwrap();
            let name = &series[..series.find('{').unwrap()];
            assert!(declared.contains(name), "{name} sampled before its TYPE");
            assert!(series.ends_with('}'), "{line}");
            samples.insert(series.to_owned(), value.parse::<f64>().unwrap_or_else(|_| panic!("{line}")));
        }
    }
    let at = |s: &str| *samples.get(s).unwrap_or_else(|| panic!("no {s} in\n{text}"));
    assert_eq!(at(r#"hazewarn_outbox_messages{city="LH",status="pending"}"#), 1.0);
    assert_eq!(at(r#"hazewarn_outbox_messages{city="LH",status="sent"}"#), 1.0);
    assert_eq!(at(r#"hazewarn_outbox_messages{city="LH",status="dead"}"#), 1.0);
    assert_eq!(at(r#"hazewarn_job_last_ok{city="LH",job="forecast"}"#), 0.0);
    assert_eq!(at(r#"hazewarn_job_last_ok{city="LH",job="verify"}"#), 0.0);
    let hour_ago = (now - Duration::hours(1)).timestamp() as f64;
    assert!((at(r#"hazewarn_last_successful_cycle_timestamp_seconds{city="LH"}"#) - hour_ago).abs() < 1.0);
    // Dispatch runs every 30 s and has not run since the start 16 minutes ago: it is late by
    // 16 minutes less its first 30 s at most.
    let dispatch = at(r#"hazewarn_job_lag_seconds{city="LH",job="dispatch"}"#);
    assert!((930.0..=961.0).contains(&dispatch), "{dispatch}");
    assert_eq!(at(r#"hazewarn_ready{city="LH"}"#), 0.0);
}

/// Follows `$ref`s (and an array's items, an optional's non-null branch) to the schema they name.
pub(crate) fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        return resolve(doc, &doc["components"]["schemas"][name]);
    }
    if schema["type"] == "array" {
        return resolve(doc, &schema["items"]);
    }
    if let Some(branches) = schema["oneOf"].as_array()
        && branches.len() == 2
        && let Some(other) = branches.iter().find(|b| b["type"] != "null")
    {
        return resolve(doc, other);
    }
    schema
}

#[tokio::test]
async fn every_response_body_is_typed_and_the_served_json_has_the_documented_fields() {
    let f = fixture(1000).await;
    let (_, doc) = call(&f, "GET", "/api/v1/openapi.json", None, None).await;
    // Every reference names a schema the document has.
    let mut refs = Vec::new();
    fn walk<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => m.iter().for_each(|(k, v)| match (k.as_str(), v.as_str()) {
                ("$ref", Some(r)) => out.push(r),
                _ => walk(v, out),
            }),
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    walk(&doc, &mut refs);
    for r in &refs {
        let name = r.trim_start_matches("#/components/schemas/");
        assert!(doc["components"]["schemas"][name].is_object(), "{r} names no schema");
    }
    // Every success body says what it holds: properties, an enum or its alternatives, never a bare object.
    let mut untyped = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let Some(schema) = op["responses"]["200"]["content"]["application/json"].get("schema") else { continue };
            let s = resolve(&doc, schema);
            let typed = s["properties"].is_object()
                || s["enum"].is_array()
                || s["oneOf"].is_array()
                || s["anyOf"].is_array()
                || s["type"].as_str().is_some_and(|t| t != "object");
            if !typed {
                untyped.push(format!("{method} {path}: {s}"));
            }
        }
    }
    assert!(untyped.is_empty(), "untyped bodies:\n{}", untyped.join("\n"));
    // What the plan route serves has the fields its schema documents, and no others.
    let (status, plan) = call(&f, "GET", "/api/v1/plan?level=orange", Some("office"), None).await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    let schema = resolve(
        &doc,
        &doc["paths"]["/api/v1/plan"]["get"]["responses"]["200"]["content"]["application/json"]["schema"],
    );
    let documented: std::collections::BTreeSet<&str> =
        schema["properties"].as_object().unwrap().keys().map(String::as_str).collect();
    let served: std::collections::BTreeSet<&str> = plan.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(served, documented);
    for required in schema["required"].as_array().unwrap() {
        assert!(served.contains(required.as_str().unwrap()), "{required} is required but not served");
    }
    // And a served plan's enterprise rows have their documented fields.
    let row = resolve(&doc, &schema["properties"]["enterprises"]);
    let row_fields: std::collections::BTreeSet<&str> =
        row["properties"].as_object().unwrap().keys().map(String::as_str).collect();
    let first = plan["enterprises"][0].as_object().expect("the illustrative list curtails at orange");
    assert_eq!(first.keys().map(String::as_str).collect::<std::collections::BTreeSet<_>>(), row_fields);
}
