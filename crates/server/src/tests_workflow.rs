//! Regression tests for the workflow defects of the pages issue, each named after what it guards.

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, FixedOffset};
use hazewarn_response::{Action, Recommendation, WarningLevel};
use hazewarn_store::forecasts::ForecastRun;
use serde_json::json;
use tower::ServiceExt as _;

use crate::router;
use crate::tests::{Fixture, call, fixture, issue_orange};

fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

async fn office_page(f: &Fixture) -> String {
    let req = Request::get("/office").header(header::COOKIE, "hw_session=session-office").body(Body::empty()).unwrap();
    let resp = router(f.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    String::from_utf8(to_bytes(resp.into_body(), 1 << 24).await.unwrap().to_vec()).unwrap()
}

/// A forecast run graded "issue orange" at the fixture's time, as the evaluate job leaves it.
async fn graded_run(f: &Fixture, id: &str) {
    let now = f.state.city.now();
    let run = ForecastRun {
        id: id.into(),
        issue_time: hazewarn_store::ts(now),
        model: "test".into(),
        created_at: hazewarn_store::ts(now),
        inputs: "[]".into(),
        hourly: "[]".into(),
        daily: "[]".into(),
        status: "approved".into(),
        model_hourly: None,
        levels: None,
    };
    let rec = Recommendation {
        action: Action::Issue,
        level: WarningLevel::Orange,
        response_level: None,
        start: Some(t("2026-01-05T00:00:00+08:00")),
        end: Some(t("2026-01-08T00:00:00+08:00")),
        reasons: Vec::new(),
        health_advisory: false,
        temporary_control: false,
        profile: "national-2024".into(),
    };
    let mut tx = f.state.city.store.write().await.unwrap();
    tx.save_forecast_run(&run).await.unwrap();
    tx.save_recommendation(id, now, &rec).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn the_office_plan_follows_the_warning_in_force_after_an_upgrade() {
    let f = fixture(1000).await;
    graded_run(&f, "run-1").await;
    issue_orange(&f).await;
    let up = json!({"step": "upgrade", "level": "red", "end": "2026-01-08T00:00:00+08:00", "reason": "加重"});
    let (status, v) = call(&f, "POST", "/api/v1/warnings", Some("office"), Some(up)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let page = office_page(&f).await;
    let plan = &page[page.find("<h2>减排方案").expect("a plan")..];
    assert!(
        plan.starts_with("<h2>减排方案 （红色"),
        "the plan is the red one in force, not the orange recommendation: {}",
        &plan[..80]
    );
    // The red targets (30 %) of national-2024, not orange's 20 %.
    assert!(
        plan.contains("<td>30%</td>") && !plan[..plan.find("</table>").unwrap()].contains("<td>20%</td>"),
        "{plan}"
    );
}

#[tokio::test]
async fn a_recommendation_carried_out_or_overtaken_is_stale_and_refused() {
    let f = fixture(1000).await;
    graded_run(&f, "run-1").await;
    assert!(office_page(&f).await.contains("id=\"approve\""), "a fresh recommendation can be carried out");
    let approve = json!({"step": "approve", "run_id": "run-1", "reason": "按建议"});
    let (status, v) = call(&f, "POST", "/api/v1/warnings", Some("office"), Some(approve.clone())).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, v) = call(&f, "POST", "/api/v1/warnings", Some("office"), Some(approve)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("stale: a warning step was taken"), "{v}");
    let page = office_page(&f).await;
    assert!(page.contains("id=\"stale\"") && !page.contains("id=\"approve\""), "no button for a stale recommendation");
    // The warning in force rests on run-1: the page says it was carried out, not overtaken.
    assert!(page.contains("此建议已执行") && !page.contains("此建议已过时"), "{page}");
    // A newer run overtakes run-1 even before any step.
    graded_run(&f, "run-2").await;
    let stale = f.state.city.recommendation_stale("run-1").await.unwrap();
    assert_eq!(stale, Some(hazewarn_scheduler::cycle::Stale::NewerForecast("run-2".into())));
}

#[tokio::test]
async fn a_newer_run_awaiting_approval_leaves_the_graded_recommendation_standing() {
    let f = fixture(1000).await;
    graded_run(&f, "run-1").await;
    // The 16:00 run is issued after run-1 was graded, and nobody has approved it yet.
    let mut later = f.state.city.store.forecast_run("run-1").await.unwrap().unwrap();
    later.id = "run-2".into();
    later.status = "issued".into();
    // Issued at the same hour as run-1 in this fixture; "run-2" sorts after "run-1".
    let mut tx = f.state.city.store.write().await.unwrap();
    tx.save_forecast_run(&later).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(f.state.city.recommendation_stale("run-1").await.unwrap(), None);
    let page = office_page(&f).await;
    assert!(page.contains("id=\"awaiting\"") && page.contains("id=\"approve\""), "{page}");
    let approve = json!({"step": "approve", "run_id": "run-1", "reason": "按建议"});
    let (status, v) = call(&f, "POST", "/api/v1/warnings", Some("office"), Some(approve)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn the_delivery_table_names_each_notices_step_and_level() {
    let f = fixture(1000).await;
    issue_orange(&f).await;
    let up = json!({"step": "upgrade", "level": "red", "end": "2026-01-08T00:00:00+08:00", "reason": "加重"});
    call(&f, "POST", "/api/v1/warnings", Some("office"), Some(up)).await;
    let (_, rows) = call(&f, "GET", "/api/v1/deliveries", Some("office"), None).await;
    let steps: std::collections::BTreeSet<(u64, String)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["step"].as_u64().unwrap(), r["level"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(steps.into_iter().collect::<Vec<_>>(), [(1, "orange".to_owned()), (2, "red".to_owned())]);
}

#[tokio::test]
async fn a_warning_past_its_end_is_lifted_by_the_follow_up() {
    let f = fixture(1000).await;
    issue_orange(&f).await;
    let city = &f.state.city;
    let after_end = t("2026-01-08T00:00:01+08:00").with_timezone(&chrono::Utc);
    city.follow_up(after_end).await.unwrap();
    assert!(city.store.warning_in_force().await.unwrap().is_none());
    let lifted = city.store.warnings_in(hazewarn_response::WarningState::Lifted).await.unwrap();
    assert_eq!(lifted.len(), 1);
    assert_eq!(lifted[0].current().by, "scheduler");
    let (_, page) = call(&f, "GET", "/api/v1/public/current", None, None).await;
    assert!(page["warning"].is_null(), "{page}");
}

async fn page_as(f: &Fixture, who: &str, uri: &str) -> String {
    let req =
        Request::get(uri).header(header::COOKIE, format!("hw_session=session-{who}")).body(Body::empty()).unwrap();
    let resp = router(f.state.clone()).oneshot(req).await.unwrap();
    String::from_utf8(to_bytes(resp.into_body(), 1 << 24).await.unwrap().to_vec()).unwrap()
}

#[tokio::test]
async fn the_office_is_not_offered_an_acknowledge_button_and_a_late_one_is_marked() {
    let f = fixture(1000).await;
    issue_orange(&f).await;
    let office = page_as(&f, "office", "/enterprise").await;
    assert!(!office.contains("id=\"ack\"") && office.contains("id=\"unacked\""), "{office}");
    assert!(page_as(&f, "ent-a", "/enterprise").await.contains("id=\"ack\""));
    // Acknowledged a day after its two-hour deadline.
    let (_, mine) = call(&f, "GET", "/api/v1/notices", Some("ent-a"), None).await;
    let id = mine[0]["notice"]["id"].as_str().unwrap();
    let late = f.state.city.now() + chrono::Duration::days(1);
    f.state.city.store.acknowledge(id, "ent-a", late).await.unwrap();
    let page = page_as(&f, "ent-a", "/enterprise").await;
    assert!(page.contains("（逾期确认）"), "{page}");
}

#[test]
fn a_forecasters_adjustment_is_checked_and_moves_the_interval_with_it() {
    assert_eq!(crate::forecaster_page::adjusted_aqi("aqi1", " 250 ").unwrap(), Some(250));
    assert_eq!(crate::forecaster_page::adjusted_aqi("aqi1", "").unwrap(), None);
    for bad in ["abc", "9999", "-5", "12.5"] {
        let e = crate::forecaster_page::adjusted_aqi("aqi1", bad).unwrap_err().to_string();
        assert_eq!(e, format!("`aqi1`: `{bad}` is not an AQI (a whole number 0–500)"));
    }
    let mut day = hazewarn_scheduler::cycle::DailyRow {
        date: chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
        lead_day: 1,
        pm25_p10: 80.0,
        pm25_p50: 100.0,
        pm25_p90: 130.0,
        aqi_p10: 110,
        aqi_p50: 132,
        aqi_p90: 170,
        trend: false,
    };
    crate::forecaster_page::adjust_day(&mut day, 480);
    // Widths 22 below and 38 above: 458–480–500 (capped at the scale's end).
    assert_eq!((day.aqi_p10, day.aqi_p50, day.aqi_p90), (458, 480, 500));
    crate::forecaster_page::adjust_day(&mut day, 10);
    assert_eq!((day.aqi_p10, day.aqi_p50, day.aqi_p90), (0, 10, 30));
}

#[tokio::test]
async fn the_forecaster_sees_that_the_latest_cycle_failed() {
    let f = fixture(1000).await;
    graded_run(&f, "run-1").await;
    let store = &f.state.city.store;
    let now = f.state.city.now();
    assert!(!page_as(&f, "fc", "/forecaster").await.contains("id=\"cycle-failed\""));
    let slot = "2026-01-04T16:00+08:00";
    let hazewarn_store::jobs::SlotClaim::Claimed(held) =
        store.claim_slot("forecast", slot, "test", now, chrono::Duration::minutes(30)).await.unwrap()
    else {
        panic!("the slot is free")
    };
    assert!(store.finish_slot("forecast", slot, &held, now, false, "no met source answered").await.unwrap());
    let page = page_as(&f, "fc", "/forecaster").await;
    assert!(page.contains("id=\"cycle-failed\"") && page.contains("no met source answered"), "{page}");
}

fn illustrative_list() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/lists/luohe-illustrative.csv")).unwrap()
}

async fn post_list(f: &Fixture, query: &str, bytes: String) -> (StatusCode, serde_json::Value) {
    let req = Request::post(format!("/api/v1/lists?{query}"))
        .header(header::AUTHORIZATION, "Bearer token-office")
        .body(Body::from(bytes))
        .unwrap();
    let resp = router(f.state.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    (status, serde_json::from_slice(&to_bytes(resp.into_body(), 1 << 24).await.unwrap()).unwrap())
}

#[tokio::test]
async fn an_import_is_previewed_before_it_replaces_the_list_and_can_be_rolled_back() {
    let f = fixture(1000).await;
    let store = &f.state.city.store;
    let (v1, list) = store.latest_list().await.unwrap().unwrap();
    // The template-sized upload that once replaced the whole list: one enterprise kept.
    let text = illustrative_list();
    let first = list.enterprises[0].credit_code.as_str().to_owned();
    let one: Vec<&str> =
        text.lines().enumerate().filter(|(k, l)| *k == 0 || l.starts_with(&first)).map(|(_, l)| l).collect();
    let (status, p) = post_list(&f, "name=one.csv&preview=true", one.join("\n")).await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["diff"]["removed"].as_array().unwrap().len(), list.enterprises.len() - 1);
    assert_eq!((p["diff"]["added"].as_array().unwrap().len(), p["diff"]["unchanged"].as_u64()), (0, Some(1)));
    assert_eq!(p["totals"].as_array().unwrap().len(), 3, "before and after at yellow, orange and red");
    assert_eq!(store.latest_list().await.unwrap().unwrap().0, v1, "a preview imports nothing");
    let (_, p) = post_list(&f, "name=same.csv&preview=true", text.clone()).await;
    assert_eq!(p["identical_to"].as_i64(), Some(v1));

    let (status, _) = post_list(&f, "name=one.csv", one.join("\n")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(store.latest_list().await.unwrap().unwrap().1.enterprises.len(), 1);
    let (status, v) = call(&f, "POST", &format!("/api/v1/lists/{v1}/restore"), Some("office"), None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (v3, restored) = store.latest_list().await.unwrap().unwrap();
    assert_eq!((v3, restored), (v1 + 2, list));
    let (status, _) = call(&f, "POST", &format!("/api/v1/lists/{v3}/restore"), Some("office"), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "the version in use is not restored over itself");
    let (_, versions) = call(&f, "GET", "/api/v1/lists", Some("office"), None).await;
    assert_eq!(versions[0]["source"], format!("restored from v{v1:04}"));
    assert!(
        store
            .audit_tail(5)
            .await
            .unwrap()
            .iter()
            .any(|e| e.action == "list-import" && e.subject == format!("list-v{v3:04}"))
    );
}

#[tokio::test]
async fn the_office_page_upload_shows_the_difference_and_imports_only_when_confirmed() {
    let f = fixture(1000).await;
    let store = &f.state.city.store;
    let (v1, _) = store.latest_list().await.unwrap().unwrap();
    let csrf = crate::auth::csrf_of("session-office");
    let changed = illustrative_list().replacen("\n", "\n\n", 1);
    let form = format!("csv={}&csrf={csrf}", crate::pages::percent_encode(&changed));
    let req = Request::post("/office/list")
        .header(header::COOKIE, "hw_session=session-office")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    let resp = router(f.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let page = String::from_utf8(to_bytes(resp.into_body(), 1 << 24).await.unwrap().to_vec()).unwrap();
    assert!(page.contains("id=\"list-summary\"") && page.contains("id=\"confirm-import\""), "{page}");
    assert_eq!(store.latest_list().await.unwrap().unwrap().0, v1, "nothing imported before the confirmation");
    let sha = hazewarn_scheduler::lists::sha256_hex(changed.as_bytes());
    let req = Request::post("/office/list-confirm")
        .header(header::COOKIE, "hw_session=session-office")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("sha256={sha}&against={v1}&csrf={csrf}")))
        .unwrap();
    let resp = router(f.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(store.latest_list().await.unwrap().unwrap().0, v1 + 1);
}

#[test]
fn the_hourly_forecast_follows_an_adjusted_day() {
    use chrono::NaiveDate;
    use hazewarn_scheduler::cycle::DailyRow;
    let d1 = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
    let d2 = d1.succ_opt().unwrap();
    let lead = |day: NaiveDate, h: u32| hazewarn_forecast::LeadForecast {
        lead: h as usize,
        valid: day.and_hms_opt(h % 24, 0, 0).unwrap(),
        p10: 80.0,
        p50: 100.0,
        p90: 130.0,
        persistence: 0.0,
        climatology: 0.0,
        damped: 0.0,
    };
    let leads = vec![lead(d1, 3), lead(d1, 15), lead(d2, 3)];
    let row = |date: NaiveDate, aqi: u32| DailyRow {
        date,
        lead_day: 1,
        pm25_p10: 0.0,
        pm25_p50: 0.0,
        pm25_p90: 0.0,
        aqi_p10: aqi - 20,
        aqi_p50: aqi,
        aqi_p90: aqi + 20,
        trend: false,
    };
    let issued = [row(d1, 150), row(d2, 120)];
    // The forecaster raised D+1 from AQI 150 to 200: HJ 633 puts 115 and 150 µg/m³ there
    // (2012 edition, in force in January 2026), so its hours are scaled by 150/115.
    let shown = [row(d1, 200), row(d2, 120)];
    let (out, adjusted) = crate::forecaster_page::follow_adjustments(&leads, &issued, &shown);
    assert!(adjusted);
    let r = 150.0 / 115.0;
    for l in &out[..2] {
        assert!(
            (l.p50 - 100.0 * r).abs() < 1e-9 && (l.p10 - 80.0 * r).abs() < 1e-9 && (l.p90 - 130.0 * r).abs() < 1e-9
        );
    }
    assert_eq!(out[2].p50, 100.0, "D+2 was not adjusted");
    let (same, adjusted) = crate::forecaster_page::follow_adjustments(&leads, &issued, &issued);
    assert!(!adjusted && same[0].p50 == 100.0);
}

#[tokio::test]
async fn a_reason_with_markup_is_shown_as_text_on_the_office_pages() {
    let f = fixture(1000).await;
    let reason = "<script>alert(\"x\")</script> & 'y'";
    let body = json!({"step": "issue", "level": "orange", "start": "2026-01-05T00:00:00+08:00",
        "end": "2026-01-08T00:00:00+08:00", "reason": reason});
    let (status, w) = call(&f, "POST", "/api/v1/warnings", Some("office"), Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{w}");
    // HTML 5 character references, as the templates write them: the text shows as typed.
    let escaped = "&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; &#39;y&#39;";
    for uri in ["/office/history", "/office/history?lang=en"] {
        let page = page_as(&f, "office", uri).await;
        assert!(!page.contains("<script>alert"), "{uri}: markup passed through");
        assert!(page.contains(escaped), "{uri}: the reason is not shown as text");
    }
    // The audit log's detail cell shows it as text too (its own escaping: named references).
    let page = page_as(&f, "office", "/office/audit").await;
    assert!(!page.contains("<script>alert"), "the audit log passed markup through");
    assert!(page.contains("&lt;script&gt;alert"), "the audit log does not show the reason");
}

#[tokio::test]
async fn a_printable_notice_asks_a_browser_to_sign_in_and_hides_another_enterprises_as_a_page() {
    let f = fixture(1000).await;
    issue_orange(&f).await;
    let (_, notices) = call(&f, "GET", "/api/v1/notices", Some("ent-a"), None).await;
    let id = notices[0]["notice"]["id"].as_str().expect("enterprise A has a notice").to_owned();
    let uri = format!("/enterprise/notice/{id}");
    let resp = router(f.state.clone()).oneshot(Request::get(&uri).body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[header::LOCATION], "/login");
    let req = Request::get(&uri).header(header::COOKIE, "hw_session=session-ent-b").body(Body::empty()).unwrap();
    let resp = router(f.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let page = String::from_utf8(to_bytes(resp.into_body(), 1 << 24).await.unwrap().to_vec()).unwrap();
    let main = &page[page.find("<main>").unwrap()..];
    assert!(main.starts_with("<main><h1>未找到</h1>"), "{main}");
    assert!(main.contains("<p>未找到该记录。</p>") && !main.contains("限产") && !main.contains("示例"), "{page}");
}

#[tokio::test]
async fn the_office_is_offered_only_the_steps_the_warnings_state_allows() {
    let f = fixture(1000).await;
    let buttons = |page: &str| {
        ["issue", "upgrade", "downgrade", "extend", "lift"]
            .into_iter()
            .filter(|b| page.contains(&format!("<button id=\"{b}\">")))
            .collect::<Vec<_>>()
    };
    assert_eq!(buttons(&office_page(&f).await), ["issue"], "nothing in force: only an issue");
    issue_orange(&f).await;
    assert_eq!(buttons(&office_page(&f).await), ["upgrade", "downgrade", "extend", "lift"]);
    // The extension form asks for the new end and nothing else.
    let page = office_page(&f).await;
    let extend = &page[page.find("value=\"extend\"").unwrap()..];
    let extend = &extend[..extend.find("</form>").unwrap()];
    assert!(
        extend.contains("name=\"end\"") && !extend.contains("name=\"level\"") && !extend.contains("name=\"start\"")
    );
    // Lifted once it has begun, within the office's 12-hour session.
    f.clock.set(t("2026-01-05T02:00:00+08:00").with_timezone(&chrono::Utc));
    let lift = json!({"step": "lift", "reason": "解除"});
    assert_eq!(call(&f, "POST", "/api/v1/warnings", Some("office"), Some(lift)).await.0, StatusCode::OK);
    assert_eq!(buttons(&office_page(&f).await), ["issue"], "lifted: only a new issue");
}

#[tokio::test]
async fn a_message_in_a_link_made_elsewhere_is_not_shown_as_the_offices_own() {
    let f = fixture(1000).await;
    let page = page_as(&f, "office", "/office?msg=%E9%A2%84%E8%AD%A6%E5%B7%B2%E8%A7%A3%E9%99%A4").await;
    assert!(!page.contains("预警已解除"), "an unsigned message was shown");
    let forged = "/office?msg=%E9%A2%84%E8%AD%A6%E5%B7%B2%E8%A7%A3%E9%99%A4&sig=000000000000000000000000";
    assert!(!page_as(&f, "office", forged).await.contains("预警已解除"), "a forged signature was accepted");
}
