//! Delivery channels. A [`Channel`] sends one outbox message and says whether it arrived, may be
//! retried, or never will. Machine channels (webhook, file drop) take every message of the kinds
//! they accept; channels that reach a person (SMS, e-mail, group robot) form each notice's route,
//! tried one after another (`City::route` in `respond.rs`).

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use hazewarn_store::OutboxEntry;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How one send ended.
#[derive(Debug, Clone, PartialEq)]
pub enum SendResult {
    Delivered(String),
    /// Worth retrying; `retry_after` is the receiver's own `Retry-After`, when it sent one.
    Transient {
        error: String,
        retry_after: Option<Duration>,
    },
    /// Retrying cannot help (the receiver refused the message): dead-letter it.
    Permanent(String),
}

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = SendResult> + Send + 'a>>;

/// Who a message is for, as each channel reaches them: an enterprise (its own endpoint and the
/// contacts on the list) for a notice, the office's duty officers for its own messages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recipient {
    /// An enterprise's own endpoint (an https webhook, `file:DIR`), possibly empty.
    pub endpoint: String,
    pub mobiles: Vec<String>,
    pub emails: Vec<String>,
    /// A group robot's address (企业微信 or 钉钉).
    pub robot: Option<String>,
}

/// The kinds of channel that reach a person, in the default order of a notice's route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PersonChannel {
    Sms,
    Email,
    Robot,
}

pub trait Channel: Send + Sync {
    fn name(&self) -> &str;
    /// Where a message of this kind for `to` goes; `None` when this channel cannot reach them.
    fn target(&self, kind: &str, to: &Recipient) -> Option<String>;
    /// Whether messages of this kind (`notice`, `alert`, `office`) go on this channel.
    fn accepts(&self, _kind: &str) -> bool {
        true
    }
    /// `Some` for a channel that reaches a person, which takes part in a notice's route.
    fn person(&self) -> Option<PersonChannel> {
        None
    }
    fn send<'a>(&'a self, message: &'a OutboxEntry) -> SendFuture<'a>;
}

/// The notice an outbox message of kind `notice` carries, and whether it is a reminder of it
/// (`{"reminder": true, "notice": …}`).
pub fn notice_payload(payload: &str) -> Result<(hazewarn_response::CurtailmentNotice, bool), String> {
    let v: serde_json::Value = serde_json::from_str(payload).map_err(|e| format!("the notice does not read: {e}"))?;
    let reminder = v.get("reminder").and_then(serde_json::Value::as_bool).unwrap_or(false);
    let n = if reminder { v.get("notice").cloned().unwrap_or_default() } else { v };
    let n = serde_json::from_value(n).map_err(|e| format!("the notice does not read: {e}"))?;
    Ok((n, reminder))
}

/// The signature header value: `sha256=` and the hex HMAC-SHA256 of the body.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    format!("sha256={}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

pub const SIGNATURE_HEADER: &str = "X-Hazewarn-Signature";
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// HTTP POST of the message's JSON payload.
pub struct Webhook {
    pub name: String,
    pub url: String,
    pub secret: Vec<u8>,
    pub client: reqwest::Client,
}

impl Webhook {
    pub fn new(name: &str, url: &str, secret: &[u8], timeout: Duration) -> Webhook {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_max_idle_per_host(64)
            .build()
            .expect("an HTTP client with rustls");
        Webhook { name: name.to_owned(), url: url.to_owned(), secret: secret.to_vec(), client }
    }
}

/// `Retry-After` as seconds or an HTTP date (relative to the response's arrival).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(s) = v.parse::<u64>() {
        return Some(Duration::from_secs(s));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).to_std().ok()
}

impl Channel for Webhook {
    fn name(&self) -> &str {
        &self.name
    }

    fn target(&self, kind: &str, to: &Recipient) -> Option<String> {
        let own = to.endpoint.starts_with("http://") || to.endpoint.starts_with("https://");
        Some(if crate::respond::ENTERPRISE_KINDS.contains(&kind) && own {
            to.endpoint.clone()
        } else {
            self.url.clone()
        })
    }

    fn send<'a>(&'a self, m: &'a OutboxEntry) -> SendFuture<'a> {
        Box::pin(async move {
            let body = m.payload.as_bytes().to_vec();
            let sent = self
                .client
                .post(&m.target)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(IDEMPOTENCY_HEADER, &m.idempotency_key)
                .header("X-Hazewarn-Kind", &m.kind)
                .header(SIGNATURE_HEADER, signature(&self.secret, &body))
                .body(body)
                .send()
                .await;
            match sent {
                Err(e) if e.is_timeout() => {
                    SendResult::Transient { error: format!("timed out: {e}"), retry_after: None }
                }
                Err(e) => SendResult::Transient { error: format!("{e}"), retry_after: None },
                Ok(r) => {
                    let status = r.status();
                    let wait = retry_after(r.headers());
                    if status.is_success() {
                        SendResult::Delivered(format!("HTTP {}", status.as_u16()))
                    } else if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
                        SendResult::Transient { error: format!("HTTP {status}"), retry_after: wait }
                    } else {
                        SendResult::Permanent(format!("HTTP {status}: the receiver refused the message"))
                    }
                }
            }
        })
    }
}

/// Writes `<idempotency key>.json` into a directory, through a temporary file and a rename, so a
/// reader never sees half a message and a repeat overwrites the same file.
pub struct FileDrop {
    pub name: String,
    pub dir: PathBuf,
}

impl Channel for FileDrop {
    fn name(&self) -> &str {
        &self.name
    }

    fn target(&self, _kind: &str, _to: &Recipient) -> Option<String> {
        Some(self.dir.display().to_string())
    }

    fn send<'a>(&'a self, m: &'a OutboxEntry) -> SendFuture<'a> {
        Box::pin(async move {
            let dir = PathBuf::from(&m.target);
            let safe: String = m
                .idempotency_key
                .chars()
                .map(|c| if c.is_alphanumeric() || "-_.".contains(c) { c } else { '_' })
                .collect();
            let tmp = dir.join(format!(".{safe}.tmp"));
            let path = dir.join(format!("{safe}.json"));
            let write = async {
                tokio::fs::create_dir_all(&dir).await?;
                tokio::fs::write(&tmp, m.payload.as_bytes()).await?;
                tokio::fs::rename(&tmp, &path).await
            };
            match write.await {
                Ok(()) => SendResult::Delivered(path.display().to_string()),
                Err(e) => SendResult::Transient { error: format!("{}: {e}", path.display()), retry_after: None },
            }
        })
    }
}
