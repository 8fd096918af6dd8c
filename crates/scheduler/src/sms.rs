//! SMS to duty officers' phones: Tencent Cloud SMS (`SendSms`, API 2021-01-11, signed with
//! TC3-HMAC-SHA256 as its "Signature v3" documentation specifies) and a plain HTTP gateway for a
//! city's own government SMS platform.
//!
//! A message names the enterprise, the level, the start and the acknowledgement deadline, and
//! carries the notice's acknowledgement link. It is kept within the configured number of SMS
//! parts (70 characters for one message with Chinese, 67 for each part of a longer one) by
//! shortening the enterprise's name, never the times or the link.

use chrono::{DateTime, FixedOffset, Utc};

pub use crate::tc3::Tc3Request;
use hazewarn_response::CurtailmentNotice;
use hazewarn_store::OutboxEntry;
use serde_json::{Value, json};

use crate::channel::{Channel, PersonChannel, Recipient, SendFuture, SendResult, notice_payload, signature};
use crate::links::AckLinks;

/// How many SMS a text is sent as: GSM-7 text fits 160 characters in one and 153 per part;
/// anything else (Chinese) is UCS-2, 70 in one and 67 per part.
pub fn sms_parts(text: &str) -> usize {
    let n = text.chars().count();
    let (single, part) = if text.chars().all(|c| c.is_ascii() && c != '`') { (160, 153) } else { (70, 67) };
    if n <= single { 1 } else { n.div_ceil(part) }
}

/// The local time as an SMS shows it: `12月3日08:00`.
fn short_time(t: DateTime<FixedOffset>) -> String {
    t.format("%-m月%-d日%H:%M").to_string()
}

/// What an SMS about a notice says: its five parts, so a provider's template can take them as
/// parameters and a gateway can take the text they make.
#[derive(Debug, Clone, PartialEq)]
pub struct SmsNotice {
    pub enterprise: String,
    pub level: String,
    pub start: String,
    pub deadline: String,
    pub link: String,
}

impl SmsNotice {
    pub fn new(n: &CurtailmentNotice, reminder: bool, link: String) -> SmsNotice {
        let level = if n.kind == hazewarn_response::TransitionKind::Lift {
            "预警解除".to_owned()
        } else {
            format!("{}预警", n.level.zh())
        };
        let level = if reminder { format!("（提醒）{level}") } else { level };
        SmsNotice {
            enterprise: n.enterprise.clone(),
            level,
            start: short_time(n.effective_from),
            deadline: short_time(n.ack_deadline),
            link,
        }
    }

    /// The text with `sign` (the 【签名】 the carrier shows first), the enterprise's name
    /// shortened with `…` until the whole fits `max_parts` SMS; an error when even four
    /// characters of the name do not fit.
    pub fn text(&self, sign: &str, max_parts: usize) -> Result<String, String> {
        let render = |name: &str| {
            format!(
                "【{sign}】{name}：{}，{}起执行应急减排措施，请于{}前确认：{}",
                self.level, self.start, self.deadline, self.link
            )
        };
        let mut name: Vec<char> = self.enterprise.chars().collect();
        let mut text = render(&self.enterprise);
        while sms_parts(&text) > max_parts && name.len() > 4 {
            name.pop();
            text = render(&format!("{}…", name.iter().collect::<String>()));
        }
        match sms_parts(&text) {
            n if n > max_parts => Err(format!("the message needs {n} SMS parts; max_parts is {max_parts}")),
            _ => Ok(text),
        }
    }

    pub fn params(&self) -> [&str; 5] {
        [&self.enterprise, &self.level, &self.start, &self.deadline, &self.link]
    }
}

/// The SMS of one outbox message: a notice's, or the office's (escalations, approvals) as its
/// first line of plain text.
fn message_text(m: &OutboxEntry, links: &AckLinks, channel: &str) -> Result<Option<SmsNotice>, String> {
    if m.kind != "notice" {
        return Ok(None);
    }
    let (n, reminder) = notice_payload(&m.payload)?;
    let link = links.for_notice(&n, channel);
    Ok(Some(SmsNotice::new(&n, reminder, links.url(&link.token))))
}

/// A sign-in code message's code and minutes (`{"code", "minutes"}`).
fn sign_in_code(m: &OutboxEntry) -> Option<(String, i64)> {
    let v: Value = serde_json::from_str(&m.payload).ok()?;
    Some((v["code"].as_str()?.to_owned(), v["minutes"].as_i64()?))
}

fn office_text(m: &OutboxEntry) -> String {
    let text = crate::robots::robot_text(&m.kind, &m.payload);
    text.lines().map(|l| l.trim_start_matches('#').trim()).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

/// The phone numbers of a target: `,`-separated eleven-digit numbers.
fn numbers(target: &str) -> Vec<String> {
    target.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

fn sms_target(accepts: bool, to: &Recipient) -> Option<String> {
    (accepts && !to.mobiles.is_empty()).then(|| to.mobiles.join(","))
}

/// Tencent Cloud SMS.
pub struct TencentSms {
    pub name: String,
    /// `https://sms.tencentcloudapi.com` in production; a local server in tests.
    pub endpoint: String,
    pub region: String,
    pub secret_id: String,
    pub secret_key: String,
    pub sdk_app_id: String,
    pub sign_name: String,
    /// The approved template of notices: five parameters (enterprise, level, start, deadline,
    /// and the link's token: Tencent refuses an address in a parameter, so the template itself
    /// holds the site's `…/a/` before `{5}`).
    pub notice_template: String,
    /// The approved template of the office's messages and of compliance alarms: one parameter,
    /// the text.
    pub office_template: Option<String>,
    /// The approved template of sign-in codes: the code and its minutes.
    pub code_template: Option<String>,
    pub links: AckLinks,
    pub client: reqwest::Client,
}

/// Tencent's answer codes (its SMS error-code table) that may pass if tried later: a frequency
/// limit, a timeout inside Tencent or towards the carrier, an exhausted SMS package (the office
/// can buy one). Anything else, such as a bad number, template or signature, an unauthorised
/// call or a clock too far from Tencent's, will not, and the route moves on.
pub fn tencent_retried(code: &str) -> bool {
    const NEVER: [&str; 2] = ["LimitExceeded.PhoneNumberCountLimit", "LimitExceeded.AppCountryOrRegionInBlacklist"];
    const RETRIED: [&str; 8] = [
        "InternalError",
        "InternalError.Timeout",
        "InternalError.SendAndRecvFail",
        "InternalError.OtherError",
        "InternalError.UnknownError",
        "InternalError.ParseBackendResponseFail",
        "FailedOperation.InsufficientBalanceInSmsPackage",
        "LimitExceeded",
    ];
    (code.starts_with("LimitExceeded.") && !NEVER.contains(&code))
        || code.starts_with("RequestLimitExceeded")
        || RETRIED.contains(&code)
}

fn tencent_outcome(status: reqwest::StatusCode, body: &str) -> SendResult {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let r = &v["Response"];
    let classify = |code: &str, msg: &str| {
        let error = format!("{code}: {msg}");
        if tencent_retried(code) {
            SendResult::Transient { error, retry_after: None }
        } else {
            SendResult::Permanent(error)
        }
    };
    if let Some(code) = r["Error"]["Code"].as_str() {
        return classify(code, r["Error"]["Message"].as_str().unwrap_or(""));
    }
    if !status.is_success() {
        return SendResult::Transient { error: format!("HTTP {status}"), retry_after: None };
    }
    let Some(set) = r["SendStatusSet"].as_array().filter(|s| !s.is_empty()) else {
        return SendResult::Permanent(format!("not a SendSms answer: {}", body.chars().take(200).collect::<String>()));
    };
    let ok = |s: &&Value| s["Code"].as_str().is_some_and(|c| c.eq_ignore_ascii_case("Ok"));
    let refused: Vec<String> = set
        .iter()
        .filter(|s| !ok(s))
        .map(|s| format!("{} {}", s["PhoneNumber"].as_str().unwrap_or("?"), s["Code"].as_str().unwrap_or("?")))
        .collect();
    match set.iter().find(|s| !ok(s)) {
        // No number took it: the first refusal decides.
        Some(first) if refused.len() == set.len() => {
            classify(first["Code"].as_str().unwrap_or(""), first["Message"].as_str().unwrap_or(""))
        }
        // Some took it (the office's several duty phones): retrying would send to them again.
        _ => {
            let serials: Vec<&str> = set.iter().filter(ok).filter_map(|s| s["SerialNo"].as_str()).collect();
            let also = if refused.is_empty() { String::new() } else { format!("; refused: {}", refused.join(", ")) };
            SendResult::Delivered(format!("SendSms Ok: {}{also}", serials.join(",")))
        }
    }
}

impl TencentSms {
    async fn send_sms(&self, m: &OutboxEntry) -> SendResult {
        let (template, params) = match message_text(m, &self.links, &self.name) {
            Err(e) => return SendResult::Permanent(e),
            Ok(Some(sms)) => {
                let mut params = sms.params().map(str::to_owned).to_vec();
                params[4] = params[4].rsplit('/').next().unwrap_or_default().to_owned();
                (self.notice_template.clone(), params)
            }
            Ok(None) if m.kind == "code" => match (&self.code_template, sign_in_code(m)) {
                (Some(t), Some((code, minutes))) => (t.clone(), vec![code, minutes.to_string()]),
                _ => return SendResult::Permanent("no code_template is configured, or the code does not read".into()),
            },
            Ok(None) => match &self.office_template {
                Some(t) => (t.clone(), vec![office_text(m)]),
                None => return SendResult::Permanent("no office_template is configured".into()),
            },
        };
        let phones: Vec<String> = numbers(&m.target).iter().map(|p| format!("+86{p}")).collect();
        let payload = json!({
            "PhoneNumberSet": phones,
            "SmsSdkAppId": self.sdk_app_id,
            "SignName": self.sign_name,
            "TemplateId": template,
            "TemplateParamSet": params,
            "SessionContext": m.idempotency_key,
        })
        .to_string();
        // The endpoint was checked as a bare address when the config loaded.
        let Ok(url) = reqwest::Url::parse(&self.endpoint) else {
            return SendResult::Permanent(format!("endpoint `{}` is not an address", self.endpoint));
        };
        let host = match (url.host_str().unwrap_or_default(), url.port()) {
            (h, Some(p)) => format!("{h}:{p}"),
            (h, None) => h.to_owned(),
        };
        // Tencent refuses a timestamp more than five minutes from its own clock: the wall clock's.
        let timestamp = Utc::now().timestamp();
        let content_type = "application/json; charset=utf-8";
        let req = Tc3Request {
            secret_id: &self.secret_id,
            secret_key: &self.secret_key,
            host: &host,
            service: "sms",
            headers: &[("content-type", content_type), ("x-tc-action", "SendSms")],
            timestamp,
            payload: &payload,
        };
        let sent = self
            .client
            .post(&self.endpoint)
            .header("Authorization", req.authorization())
            .header("Content-Type", content_type)
            .header("Host", &host)
            .header("X-TC-Action", "SendSms")
            .header("X-TC-Version", "2021-01-11")
            .header("X-TC-Timestamp", timestamp.to_string())
            .header("X-TC-Region", &self.region)
            .body(payload)
            .send()
            .await;
        match sent {
            Err(e) => SendResult::Transient { error: e.to_string(), retry_after: None },
            Ok(r) => {
                let status = r.status();
                match r.text().await {
                    Ok(body) => tencent_outcome(status, &body),
                    Err(e) => SendResult::Transient { error: format!("reading the answer: {e}"), retry_after: None },
                }
            }
        }
    }
}

impl Channel for TencentSms {
    fn name(&self) -> &str {
        &self.name
    }

    fn target(&self, kind: &str, to: &Recipient) -> Option<String> {
        sms_target(self.accepts(kind), to)
    }

    fn accepts(&self, kind: &str) -> bool {
        kind == "notice"
            || (["office", "alarm"].contains(&kind) && self.office_template.is_some())
            || (kind == "code" && self.code_template.is_some())
    }

    fn person(&self) -> Option<PersonChannel> {
        Some(PersonChannel::Sms)
    }

    fn send<'a>(&'a self, m: &'a OutboxEntry) -> SendFuture<'a> {
        Box::pin(self.send_sms(m))
    }
}

/// A city's own SMS platform: a JSON POST of the numbers and the finished text, signed like the
/// webhook channel; 2xx is accepted, 408/429/5xx retried, any other status refused.
pub struct SmsGateway {
    pub name: String,
    pub url: String,
    pub secret: Vec<u8>,
    pub sign_name: String,
    pub max_parts: usize,
    pub links: AckLinks,
    pub client: reqwest::Client,
}

impl SmsGateway {
    async fn send_sms(&self, m: &OutboxEntry) -> SendResult {
        let text = match message_text(m, &self.links, &self.name) {
            Err(e) => return SendResult::Permanent(e),
            Ok(Some(sms)) => match sms.text(&self.sign_name, self.max_parts) {
                Ok(t) => t,
                Err(e) => return SendResult::Permanent(e),
            },
            Ok(None) => match sign_in_code(m) {
                Some((code, minutes)) if m.kind == "code" => {
                    format!("【{}】您的登录验证码为 {code}，{minutes} 分钟内有效。请勿告诉他人。", self.sign_name)
                }
                _ => format!("【{}】{}", self.sign_name, office_text(m)),
            },
        };
        let parts = sms_parts(&text);
        let body = json!({"id": m.idempotency_key, "mobiles": numbers(&m.target), "content": text, "parts": parts})
            .to_string();
        let sent = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(crate::channel::IDEMPOTENCY_HEADER, &m.idempotency_key)
            .header(crate::channel::SIGNATURE_HEADER, signature(&self.secret, body.as_bytes()))
            .body(body)
            .send()
            .await;
        match sent {
            Err(e) => SendResult::Transient { error: e.to_string(), retry_after: None },
            Ok(r) if r.status().is_success() => {
                SendResult::Delivered(format!("HTTP {}, {parts} part(s)", r.status().as_u16()))
            }
            Ok(r) => {
                let (status, wait) = (r.status(), crate::channel::retry_after(r.headers()));
                let body = r.text().await.unwrap_or_default();
                let error = format!("HTTP {status}: {}", body.chars().take(200).collect::<String>());
                if status.is_server_error() || [408, 429].contains(&status.as_u16()) {
                    SendResult::Transient { error, retry_after: wait }
                } else {
                    SendResult::Permanent(error)
                }
            }
        }
    }
}

impl Channel for SmsGateway {
    fn name(&self) -> &str {
        &self.name
    }

    fn target(&self, kind: &str, to: &Recipient) -> Option<String> {
        sms_target(self.accepts(kind), to)
    }

    fn accepts(&self, kind: &str) -> bool {
        ["notice", "office", "code", "alarm"].contains(&kind)
    }

    fn person(&self) -> Option<PersonChannel> {
        Some(PersonChannel::Sms)
    }

    fn send<'a>(&'a self, m: &'a OutboxEntry) -> SendFuture<'a> {
        Box::pin(self.send_sms(m))
    }
}
