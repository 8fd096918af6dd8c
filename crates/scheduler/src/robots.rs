//! Work-group robots: the 钉钉 (DingTalk) custom robot and the 企业微信 (WeCom) group robot. They
//! put a message in a group chat where the office's duty officers (or an enterprise's) read it on
//! their phones. By default they take the office's messages and the public alert, not the
//! hundreds of curtailment notices (each robot may post about 20 messages a minute).
//!
//! Both answer HTTP 200 with a JSON `errcode`; 0 is delivered. A rate-limit code is retried, any
//! other code is dead-lettered with the provider's message.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hazewarn_store::OutboxEntry;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::channel::{Channel, PersonChannel, Recipient, SendFuture, SendResult};
use hazewarn_response::{RobotKind, robot_kind};

/// WeCom's markdown content is limited to 4,096 bytes; DingTalk's text is kept to the same.
const MAX_BYTES: usize = 4000;

/// DingTalk's signature of a robot call: `timestamp` (ms) + "\n" + secret, HMAC-SHA256 keyed by
/// the secret, Base64, then URL-encoded, as its custom-robot documentation specifies.
pub fn dingtalk_sign(secret: &str, timestamp_ms: u128) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(format!("{timestamp_ms}\n{secret}").as_bytes());
    let b64 = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    url_encode(&b64)
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// At most `max` bytes of `s`, cut at a character boundary.
fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn field<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The text a duty officer reads in the group, by message kind.
pub fn robot_text(kind: &str, payload: &str) -> String {
    let v: Value = serde_json::from_str(payload).unwrap_or(Value::Null);
    let text = match kind {
        "notice" => {
            let n = v.get("notice").unwrap_or(&v);
            format!(
                "### 重污染天气应急减排通知\n**{}**（{}）\n- 预警：{} {}\n- 执行：{} 至 {}\n- 请于 {} 前确认\n- 通知编号：{}",
                field(n, "enterprise"),
                field(n, "credit_code"),
                field(n, "warning_id"),
                field(n, "level"),
                field(n, "effective_from"),
                field(n, "effective_until"),
                field(n, "ack_deadline"),
                field(n, "id"),
            )
        }
        "alert" => format!(
            "### 重污染天气预警 {}\n- 预警编号：{}\n- 步骤：{}（第 {} 步）",
            field(&v, "level"),
            field(&v, "warning_id"),
            field(&v, "kind"),
            v.get("step").map(Value::to_string).unwrap_or_default(),
        ),
        "alarm" => format!(
            "### 减排核查告警\n**{}**（{}）{}\n- 预警：{} 第 {} 步\n- 监测发现：{}\n- 请登录企业页面反馈说明。告警编号：{}",
            field(&v, "enterprise"),
            field(&v, "credit_code"),
            field(&v, "line"),
            field(&v, "warning_id"),
            v.get("step").map(Value::to_string).unwrap_or_default(),
            v.get("evidence")
                .and_then(Value::as_array)
                .map_or(String::new(), |e| { e.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("；") }),
            field(&v, "id"),
        ),
        "office" if v.get("unreachable").is_some() && v.get("alarm_id").is_some() => format!(
            "### 核查告警无法送达\n**{}**（{}）在减排清单上没有可用的手机、邮箱或工作群机器人，告警 {} 请电话通知并在页面登记。",
            field(&v, "enterprise"),
            field(&v, "credit_code"),
            field(&v, "alarm_id"),
        ),
        "office" if v.get("unreachable").is_some() => format!(
            "### 无法送达\n**{}**（{}）在减排清单上没有可用的手机、邮箱或工作群机器人，通知 {} 请电话送达并代录确认。",
            field(&v, "enterprise"),
            field(&v, "credit_code"),
            field(&v, "notice_id"),
        ),
        "office" if v.get("escalation").is_some() => format!(
            "### 逾期未确认\n**{}**（{}）未在 {} 前确认通知 {}，请电话督办。",
            field(&v, "enterprise"),
            field(&v, "credit_code"),
            field(&v, "ack_deadline"),
            field(&v, "notice_id"),
        ),
        "office" => {
            let step = v.get("step").map(|s| s.to_string()).unwrap_or_else(|| "—".into());
            format!("### 预警建议待审批\n建议：{}\n请登录应急办页面审批。", clip(&step, 600))
        }
        other => format!("### hazewarn {other}\n{}", clip(payload, 1000)),
    };
    clip(&text, MAX_BYTES).to_owned()
}

/// How a robot's JSON answer ends the send: `retry` lists the provider's rate-limit codes.
fn outcome(status: reqwest::StatusCode, body: &str, retry: &[i64]) -> SendResult {
    if status.is_server_error() || status.as_u16() == 429 {
        return SendResult::Transient { error: format!("HTTP {status}"), retry_after: None };
    }
    if !status.is_success() {
        return SendResult::Permanent(format!("HTTP {status}"));
    }
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let (code, msg) = (v.get("errcode").and_then(Value::as_i64), field(&v, "errmsg"));
    match code {
        Some(0) => SendResult::Delivered("errcode 0".into()),
        Some(c) if retry.contains(&c) => {
            SendResult::Transient { error: format!("errcode {c}: {msg}"), retry_after: Some(Duration::from_secs(60)) }
        }
        Some(c) => SendResult::Permanent(format!("errcode {c}: {msg}")),
        None => SendResult::Permanent(format!("not a robot answer: {}", clip(body, 200))),
    }
}

async fn post(client: &reqwest::Client, url: &str, body: Value, retry: &[i64]) -> SendResult {
    match client.post(url).json(&body).send().await {
        // Without the address: it carries the robot's key.
        Err(e) => SendResult::Transient { error: e.without_url().to_string(), retry_after: None },
        Ok(r) => {
            let status = r.status();
            match r.text().await {
                Ok(text) => outcome(status, &text, retry),
                Err(e) => SendResult::Transient {
                    error: format!("reading the answer: {}", e.without_url()),
                    retry_after: None,
                },
            }
        }
    }
}

/// A robot's address without its query: a group robot's access token or key stays in the
/// config, never in an outbox row. (An enterprise's own robot address is on the list already and
/// is its notice's target; errors never quote an address.)
fn address(webhook: &str) -> String {
    webhook.split('?').next().unwrap_or_default().to_owned()
}

/// Where a robot channel sends: a notice to the enterprise's own group robot of this service
/// (its address is on the list), anything else it accepts to the configured group.
fn robot_target(service: RobotKind, accepts: bool, webhook: &str, kind: &str, to: &Recipient) -> Option<String> {
    if crate::respond::ENTERPRISE_KINDS.contains(&kind)
        && let Some(own) = to.robot.as_deref().filter(|r| robot_kind(r) == Ok(service))
    {
        return Some(own.to_owned());
    }
    accepts.then(|| address(webhook))
}

/// The address a send goes to: the enterprise's own robot for its notice, else the group's.
fn send_address<'a>(m: &'a OutboxEntry, webhook: &'a str) -> &'a str {
    if crate::respond::ENTERPRISE_KINDS.contains(&m.kind.as_str()) && robot_kind(&m.target).is_ok() {
        &m.target
    } else {
        webhook
    }
}

/// The kinds a robot takes unless configured otherwise.
pub const DEFAULT_KINDS: [&str; 2] = ["office", "alert"];

/// A DingTalk custom robot with 加签 (signed) security.
pub struct DingTalkRobot {
    pub name: String,
    pub webhook: String,
    pub secret: String,
    pub kinds: Vec<String>,
    pub client: reqwest::Client,
}

/// DingTalk: 130101 is "sending too fast".
const DINGTALK_RETRY: [i64; 1] = [130101];
/// WeCom: 45009 is "api freq out of limit".
const WECOM_RETRY: [i64; 1] = [45009];

impl Channel for DingTalkRobot {
    fn name(&self) -> &str {
        &self.name
    }

    fn target(&self, kind: &str, to: &Recipient) -> Option<String> {
        robot_target(RobotKind::Dingtalk, self.accepts(kind), &self.webhook, kind, to)
    }

    fn accepts(&self, kind: &str) -> bool {
        self.kinds.iter().any(|k| k == kind)
    }

    fn person(&self) -> Option<PersonChannel> {
        Some(PersonChannel::Robot)
    }

    fn send<'a>(&'a self, m: &'a OutboxEntry) -> SendFuture<'a> {
        Box::pin(async move {
            let webhook = send_address(m, &self.webhook);
            if webhook != self.webhook {
                // An enterprise's own DingTalk robot: its 加签 secret is not on the list, so it
                // must use keyword security (every notice's text says 预警).
                let text = robot_text(&m.kind, &m.payload);
                let title = text.lines().next().unwrap_or("hazewarn").trim_start_matches('#').trim().to_owned();
                let body = json!({"msgtype": "markdown", "markdown": {"title": title, "text": text}});
                return post(&self.client, webhook, body, &DINGTALK_RETRY).await;
            }
            // DingTalk checks the timestamp against its own clock, so it is the wall clock's,
            // never a city's demonstration clock.
            let ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
            let sep = if self.webhook.contains('?') { '&' } else { '?' };
            let url = format!("{}{sep}timestamp={ms}&sign={}", self.webhook, dingtalk_sign(&self.secret, ms));
            let text = robot_text(&m.kind, &m.payload);
            let title = text.lines().next().unwrap_or("hazewarn").trim_start_matches('#').trim().to_owned();
            let body = json!({"msgtype": "markdown", "markdown": {"title": title, "text": text}});
            post(&self.client, &url, body, &DINGTALK_RETRY).await
        })
    }
}

/// A WeCom group robot (the `key` is in its webhook address).
pub struct WeComRobot {
    pub name: String,
    pub webhook: String,
    pub kinds: Vec<String>,
    pub client: reqwest::Client,
}

impl Channel for WeComRobot {
    fn name(&self) -> &str {
        &self.name
    }

    fn target(&self, kind: &str, to: &Recipient) -> Option<String> {
        robot_target(RobotKind::Wecom, self.accepts(kind), &self.webhook, kind, to)
    }

    fn accepts(&self, kind: &str) -> bool {
        self.kinds.iter().any(|k| k == kind)
    }

    fn person(&self) -> Option<PersonChannel> {
        Some(PersonChannel::Robot)
    }

    fn send<'a>(&'a self, m: &'a OutboxEntry) -> SendFuture<'a> {
        Box::pin(async move {
            let body = json!({"msgtype": "markdown", "markdown": {"content": robot_text(&m.kind, &m.payload)}});
            post(&self.client, send_address(m, &self.webhook), body, &WECOM_RETRY).await
        })
    }
}
