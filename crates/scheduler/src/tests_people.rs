//! The channels that reach a person, each against a real peer on loopback (`testkit`): SMS
//! through Tencent Cloud's documented API and a city gateway, e-mail over SMTP; and a notice's
//! route falling back from one to the next.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use hazewarn_response::{CurtailmentNotice, TransitionKind, WarningLevel};
use hazewarn_store::{OutboxEntry, OutboxStatus};

use crate::channel::{Channel, SendResult};
use crate::links::AckLinks;
use crate::mail::Smtp;
use crate::sms::{SmsNotice, Tc3Request, TencentSms, sms_parts};
use hazewarn_testkit::{smtp::SmtpServer, tencent};

const LINK_SECRET: &[u8] = b"testkit-link-secret-0123456789abcdef";

fn t(h: u32) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(8 * 3600).unwrap().with_ymd_and_hms(2026, 1, 22, h, 0, 0).unwrap()
}

fn notice() -> CurtailmentNotice {
    CurtailmentNotice {
        id: "LH-20260122-1-91411100MA4007919J".into(),
        content_hash: "0".repeat(64),
        warning_id: "LH-20260122".into(),
        step: 1,
        kind: TransitionKind::Issue,
        credit_code: "91411100MA4007919J".into(),
        enterprise: "示例水泥企业01有限公司".into(),
        level: WarningLevel::Orange,
        issued_at: t(6),
        effective_from: t(8),
        effective_until: t(23),
        ack_deadline: t(10),
        lines: vec![],
        transport_zh: "国五及以下重型货车停止运输".into(),
        basis: "漯河市重污染天气应急预案".into(),
        issuer: "漯河市重污染天气应急指挥部办公室".into(),
        contact: "0395-0000000".into(),
        endpoint: String::new(),
        supersedes: None,
    }
}

fn entry(channel: &str, target: &str, payload: String) -> OutboxEntry {
    OutboxEntry::unqueued("notice", channel, target, &notice().id, payload)
}

/// Tencent's "Signature v3" page signs a CVM `DescribeInstances` call; its published values
/// (current and earlier revision of the page, whose keys are printed with `*`) are the vectors.
#[test]
fn tc3_signing_reproduces_the_documented_examples() {
    let payload = r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
    let secret_id = format!("AKID{}", "*".repeat(32));
    let secret_key = "*".repeat(32);
    let req = Tc3Request {
        secret_id: &secret_id,
        secret_key: &secret_key,
        host: "cvm.tencentcloudapi.com",
        service: "cvm",
        headers: &[("content-type", "application/json; charset=utf-8"), ("x-tc-action", "DescribeInstances")],
        timestamp: 1_551_113_065,
        payload,
    };
    assert_eq!(
        req.canonical_request(),
        "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\
         x-tc-action:describeinstances\n\ncontent-type;host;x-tc-action\n\
         35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    );
    assert_eq!(
        req.string_to_sign(),
        "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n\
         7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84"
    );
    assert_eq!(req.signature(), "10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f");
    assert_eq!(
        req.authorization(),
        format!(
            "TC3-HMAC-SHA256 Credential={secret_id}/2019-02-25/cvm/tc3_request, \
             SignedHeaders=content-type;host;x-tc-action, \
             Signature=10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f"
        )
    );
    let older = Tc3Request {
        secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******",
        secret_key: "Gu5t9xGARNpq86cd98joQYCN3*******",
        ..req
    };
    assert_eq!(older.signature(), "be4f67d323c78ab9acb7395e43c0dbcf822a9cfac32fea2449a7bc7726b770a3");
}

#[test]
fn sms_parts_follow_the_70_and_67_character_rule() {
    let zh = |n: usize| "污".repeat(n);
    assert_eq!([sms_parts(&zh(70)), sms_parts(&zh(71)), sms_parts(&zh(134)), sms_parts(&zh(135))], [1, 2, 2, 3]);
    // Tencent's billing example: 150 characters are 67 + 67 + 16, three messages.
    assert_eq!(sms_parts(&zh(150)), 3);
    let en = |n: usize| "a".repeat(n);
    assert_eq!([sms_parts(&en(160)), sms_parts(&en(161)), sms_parts(&en(306)), sms_parts(&en(307))], [1, 2, 2, 3]);
    // One Chinese character makes the whole text UCS-2.
    assert_eq!(sms_parts(&format!("{}污", en(69))), 1);
    assert_eq!(sms_parts(&format!("{}污", en(70))), 2);
}

#[test]
fn an_sms_names_enterprise_level_start_and_deadline_and_shortens_only_the_name() {
    let link = "https://hw.luohe.gov.cn/a/AAAAAAAAAAAAAAAA".to_owned();
    let sms = SmsNotice::new(&notice(), false, link.clone());
    let text = sms.text("漯河重污染应急", 3).unwrap();
    assert_eq!(
        text,
        format!(
            "【漯河重污染应急】示例水泥企业01有限公司：橙色预警，1月22日08:00起执行应急减排措施，请于1月22日10:00前确认：{link}"
        )
    );
    assert_eq!(sms_parts(&text), 2);
    let long = CurtailmentNotice { enterprise: "漯".repeat(200), ..notice() };
    let text = SmsNotice::new(&long, true, link.clone()).text("漯河重污染应急", 2).unwrap();
    assert!(sms_parts(&text) <= 2, "{text}");
    assert!(text.contains("…：（提醒）橙色预警，1月22日08:00起") && text.ends_with(&link), "{text}");
    // One part cannot hold the times and the link: refused, not sent cut.
    let e = SmsNotice::new(&long, false, link).text("漯河重污染应急", 1).unwrap_err();
    assert!(e.starts_with("the message needs 2 SMS parts; max_parts is 1"), "{e}");
}

fn tencent_channel(endpoint: &str, secret_key: &str) -> TencentSms {
    TencentSms {
        name: "sms".into(),
        endpoint: endpoint.into(),
        region: "ap-guangzhou".into(),
        secret_id: tencent::SECRET_ID.into(),
        secret_key: secret_key.into(),
        sdk_app_id: "1400006666".into(),
        sign_name: "漯河重污染应急".into(),
        notice_template: "2001".into(),
        office_template: None,
        code_template: None,
        links: AckLinks::new(LINK_SECRET, "https://hw.luohe.gov.cn"),
        client: reqwest::Client::new(),
    }
}

#[tokio::test]
async fn tencent_sms_is_signed_as_documented_and_its_codes_are_classed() {
    let provider = tencent::TencentSms::default();
    let base = provider.start().await;
    let sms = tencent_channel(&base, tencent::SECRET_KEY);
    let m = entry("sms", "13903950001", notice().to_json());
    match sms.send(&m).await {
        SendResult::Delivered(d) => assert!(d.starts_with("SendSms Ok: 2433:0"), "{d}"),
        other => panic!("{other:?}"),
    }
    let body = provider.accepted.lock().unwrap()[0].clone();
    assert_eq!(body["PhoneNumberSet"], serde_json::json!(["+8613903950001"]));
    assert_eq!(body["TemplateId"], "2001");
    assert_eq!(body["SignName"], "漯河重污染应急");
    assert_eq!(body["SessionContext"], notice().id);
    let params: Vec<&str> = body["TemplateParamSet"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let token = AckLinks::new(LINK_SECRET, "x").for_notice(&notice(), "sms").token;
    assert_eq!(params, ["示例水泥企业01有限公司", "橙色预警", "1月22日08:00", "1月22日10:00", token.as_str()]);

    // A wrong key is refused by the provider's own check, and never retried.
    match tencent_channel(&base, "not-the-key").send(&m).await {
        SendResult::Permanent(e) => assert!(e.starts_with("AuthFailure.SignatureFailure"), "{e}"),
        other => panic!("{other:?}"),
    }
    let cases = [
        ("InvalidParameterValue.IncorrectPhoneNumber", false),
        ("FailedOperation.TemplateIncorrectOrUnapproved", false),
        ("LimitExceeded.PhoneNumberThirtySecondLimit", true),
    ];
    for (code, retried) in cases {
        provider.codes.lock().unwrap().insert("+8613903950001".into(), code.into());
        let r = sms.send(&m).await;
        assert_eq!(matches!(r, SendResult::Transient { .. }), retried, "{code}: {r:?}");
        assert!(format!("{r:?}").contains(code), "{r:?}");
    }
    provider.codes.lock().unwrap().clear();
    *provider.error.lock().unwrap() = Some("FailedOperation.InsufficientBalanceInSmsPackage".into());
    assert!(matches!(sms.send(&m).await, SendResult::Transient { .. }), "an exhausted package is retried");
}

#[tokio::test]
async fn an_email_carries_text_html_the_printable_notice_and_the_link() {
    let server = SmtpServer::default();
    let port = server.start().await;
    let links = AckLinks::new(LINK_SECRET, "https://hw.luohe.gov.cn");
    let timeout = std::time::Duration::from_secs(5);
    let at = crate::mail::SmtpServer {
        host: "127.0.0.1".into(),
        port,
        tls: crate::config::SmtpTls::None,
        credentials: None,
        ca_pem: None,
    };
    let mail = Smtp::new("mail", at, "漯河应急办 <duty@luohe.example.com>", timeout, links.clone()).unwrap();
    let m = entry("mail", "duty01@qiye01.example.com", notice().to_json());
    match mail.send(&m).await {
        SendResult::Delivered(d) => assert_eq!(d, "SMTP 250"),
        other => panic!("{other:?}"),
    }
    let got = server.received.lock().unwrap()[0].clone();
    assert_eq!(got.from, "duty@luohe.example.com");
    assert_eq!(got.to, ["duty01@qiye01.example.com"]);
    let parsed = mail_parser::MessageParser::default().parse(&got.data).unwrap();
    assert_eq!(parsed.subject().unwrap(), format!("【橙色预警】重污染天气应急减排通知 {}", notice().id));
    assert_eq!(parsed.message_id().unwrap(), format!("{}@hazewarn", notice().id));
    let url = links.url(&links.for_notice(&notice(), "mail").token);
    assert_eq!((parsed.text_body_count(), parsed.html_body_count()), (1, 1));
    let text = parsed.body_text(0).unwrap();
    assert!(
        text.contains(&url) && text.contains("示例水泥企业01有限公司") && text.contains("2026-01-22 10:00"),
        "{text}"
    );
    assert!(parsed.body_html(0).unwrap().contains(&format!("href=\"{url}\"")));
    let attachments: Vec<_> = parsed.attachments().collect();
    assert_eq!(attachments.len(), 1);
    use mail_parser::MimeHeaders as _;
    assert_eq!(attachments[0].attachment_name().unwrap(), format!("{}.html", notice().id));
    // Text parts travel with CRLF line ends (RFC 2046 canonical form).
    assert_eq!(std::str::from_utf8(attachments[0].contents()).unwrap().replace("\r\n", "\n"), notice().to_html());

    // A mailbox the server refuses (5xx) is a dead letter, not a retry.
    server.refuse.lock().unwrap().insert("gone@qiye02.example.com".into());
    let m = entry("mail", "gone@qiye02.example.com", notice().to_json());
    assert!(matches!(mail.send(&m).await, SendResult::Permanent(e) if e.contains("550")));
}

/// A city whose notices go by Tencent SMS, then e-mail; the illustrative list's contacts.
async fn routed_city(dir: &std::path::Path, sms: &str, smtp_port: u16) -> crate::City {
    let repo = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let text = format!(
        r#"
[city]
id = "LH"
name = "漯河市"
[store]
url = "sqlite://hw.db"
[data]
work_dir = "work"
model = "model"
list = "{repo}/data/lists/luohe-illustrative.csv"
inventory = "{repo}/data/lists/inventory-illustrative.csv"
[duty]
mobiles = ["13903950000"]
emails = ["duty@luohe.example.com"]
[links]
base_url = "https://hw.luohe.gov.cn"
secret = "{secret}"
[delivery]
base_backoff_ms = 1
max_backoff_ms = 5
max_attempts = 2
[[channels]]
kind = "file-drop"
name = "archive"
dir = "drop"
{mail}[[channels]]
kind = "wecom-robot"
name = "duty-group"
webhook = "http://127.0.0.1:9/cgi-bin/webhook/send?key=k"
{sms}"#,
        secret = std::str::from_utf8(LINK_SECRET).unwrap(),
        mail = hazewarn_testkit::smtp::channel("mail", smtp_port),
        sms = tencent::channel("sms", sms),
    );
    let config = crate::Config::parse(&text, dir).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 1, 21, 22, 0, 0).unwrap();
    crate::City::open(config, std::sync::Arc::new(crate::ManualClock::new(now))).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_falls_back_from_a_refused_number_to_email_and_the_audit_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (provider, smtp) = (tencent::TencentSms::default(), SmtpServer::default());
    let (base, port) = (provider.start().await, smtp.start().await);
    let city = routed_city(dir.path(), &base, port).await;
    // The route is SMS, e-mail, robot although the config lists them otherwise.
    let route: Vec<&str> = city.route().iter().map(|c| c.name()).collect();
    assert_eq!(route, ["sms", "mail", "duty-group"]);
    let (_, list) = city.list().await.unwrap();
    let refused: Vec<String> = list.enterprises[..5].iter().map(|e| e.contacts.mobile.clone().unwrap()).collect();
    for m in &refused {
        provider.codes.lock().unwrap().insert(format!("+86{m}"), "InvalidParameterValue.IncorrectPhoneNumber".into());
    }
    let now = city.now();
    let step = crate::Step::Issue { level: WarningLevel::Orange, start: t(8), end: t(23) };
    let w = city.apply(step, "office", "test", "run-1", now).await.unwrap();
    let notices = city.store.notices_of(&w.id, None).await.unwrap();
    assert!(notices.len() > 5);
    let report = city.dispatcher().drain().await.unwrap();
    // The refused numbers, and the public alert to a duty group that is not listening.
    assert_eq!(report.dead, 6, "{report:?}");

    let accepted = provider.accepted.lock().unwrap().clone();
    let mails = smtp.received.lock().unwrap().clone();
    assert_eq!(accepted.len(), notices.len() - 5);
    assert_eq!(mails.len(), 5);
    for n in &notices {
        let rows = city.store.outbox_of(&n.notice.id).await.unwrap();
        let status = |ch: &str| rows.iter().find(|r| r.channel == ch).map(|r| r.status);
        let e = list.enterprises.iter().find(|e| e.credit_code.as_str() == n.notice.credit_code).unwrap();
        let was_refused = refused.contains(e.contacts.mobile.as_ref().unwrap());
        let expect = if was_refused {
            (Some(OutboxStatus::Dead), Some(OutboxStatus::Sent))
        } else {
            (Some(OutboxStatus::Sent), Some(OutboxStatus::Standby))
        };
        assert_eq!((status("sms"), status("mail")), expect, "{}", n.notice.id);
        assert_eq!(status("archive"), Some(OutboxStatus::Sent));
        // The office's duty group takes no notice: no enterprise on this list has its own robot.
        assert_eq!(status("duty-group"), None);
        // Each mail went to the enterprise's own address, once.
        let to_it = mails.iter().filter(|m| m.to == [e.contacts.email.clone().unwrap()]).count();
        assert_eq!(to_it, usize::from(was_refused));
    }
    let audit = city.store.verify_audit().await.unwrap();
    assert!(audit.ok(), "{audit:?}");
}

/// Implicit TLS and STARTTLS against a server whose certificate only the configured CA vouches
/// for; without that CA the send is refused, never made in clear.
#[tokio::test]
async fn email_goes_over_implicit_tls_and_starttls_to_a_server_the_configured_ca_vouches_for() {
    use crate::config::SmtpTls;
    use hazewarn_testkit::smtp::{Security, self_signed};
    let (pem, acceptor) = self_signed();
    let links = AckLinks::new(LINK_SECRET, "https://hw.luohe.gov.cn");
    let timeout = std::time::Duration::from_secs(5);
    for (security, tls) in [(Security::Implicit, SmtpTls::Tls), (Security::StartTls, SmtpTls::Starttls)] {
        let server = SmtpServer::default();
        let port = server.start_secured(security, Some(acceptor.clone())).await;
        let at = |ca: Option<&str>| crate::mail::SmtpServer {
            host: "127.0.0.1".into(),
            port,
            tls,
            credentials: None,
            ca_pem: ca.map(|p| p.as_bytes().to_vec()),
        };
        let m = entry("mail", "duty01@qiye01.example.com", notice().to_json());
        let trusted = Smtp::new("mail", at(Some(&pem)), "duty@luohe.example.com", timeout, links.clone()).unwrap();
        assert_eq!(trusted.send(&m).await, SendResult::Delivered("SMTP 250".into()), "{security:?}");
        let got = server.received.lock().unwrap().clone();
        assert_eq!(got.len(), 1);
        assert!(got[0].tls, "{security:?}: the message came over TLS");
        let untrusted = Smtp::new("mail", at(None), "duty@luohe.example.com", timeout, links.clone()).unwrap();
        let refused = untrusted.send(&m).await;
        assert!(matches!(refused, SendResult::Permanent(_)), "{security:?}: an unknown CA is refused: {refused:?}");
        assert_eq!(server.received.lock().unwrap().len(), 1, "nothing went in clear");
    }
    // A server that is down may be up later: retried.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = listener.local_addr().unwrap().port();
    drop(listener);
    let down = crate::mail::SmtpServer {
        host: "127.0.0.1".into(),
        port: closed,
        tls: SmtpTls::None,
        credentials: None,
        ca_pem: None,
    };
    let mail = Smtp::new("mail", down, "duty@luohe.example.com", timeout, links).unwrap();
    let m = entry("mail", "duty01@qiye01.example.com", notice().to_json());
    assert!(matches!(mail.send(&m).await, SendResult::Transient { .. }));
}
