//! E-mail over SMTP (lettre): a notice as plain text and HTML with its acknowledgement link, and
//! the printable notice attached; the office's messages as plain text. The Message-ID is the
//! notice id, so a mail client or archive sees a repeated delivery as the same message.

use hazewarn_response::html_escape;
use hazewarn_store::OutboxEntry;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::SchedulerError;
use crate::channel::{Channel, PersonChannel, Recipient, SendFuture, SendResult, notice_payload};
use crate::config::SmtpTls;
use crate::links::AckLinks;

/// Where and how the SMTP server is reached.
#[derive(Clone)]
pub struct SmtpServer {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// User name and password, when the server asks for them.
    pub credentials: Option<(String, String)>,
    /// A CA (PEM) the server's certificate may chain to, beside the public roots.
    pub ca_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for SmtpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let user = self.credentials.as_ref().map(|c| c.0.as_str());
        f.debug_struct("SmtpServer")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &user)
            .field("ca", &self.ca_pem.is_some())
            .finish_non_exhaustive()
    }
}

pub struct Smtp {
    pub name: String,
    pub from: Mailbox,
    pub links: AckLinks,
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl Smtp {
    pub fn new(
        name: &str,
        server: SmtpServer,
        from: &str,
        timeout: std::time::Duration,
        links: AckLinks,
    ) -> Result<Smtp, SchedulerError> {
        let SmtpServer { host, port, tls, credentials, ca_pem } = server;
        let host = host.as_str();
        let bad =
            |what: &str, e: &dyn std::fmt::Display| SchedulerError::Config(format!("channel `{name}`: {what}: {e}"));
        let parameters = || {
            let mut b = TlsParameters::builder(host.to_owned());
            if let Some(pem) = &ca_pem {
                b = b.add_root_certificate(Certificate::from_pem(pem).map_err(|e| bad("ca_file", &e))?);
            }
            b.build().map_err(|e| bad("tls", &e))
        };
        let from: Mailbox = from.parse().map_err(|e| bad("from", &e))?;
        let tls = match tls {
            SmtpTls::None => Tls::None,
            SmtpTls::Starttls => Tls::Required(parameters()?),
            SmtpTls::Tls => Tls::Wrapper(parameters()?),
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(port).tls(tls).timeout(Some(timeout));
        if let Some((user, password)) = credentials {
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(Smtp { name: name.to_owned(), from, links, transport: builder.build() })
    }

    /// The message of one outbox row, or why it cannot be one (permanent).
    pub fn message(&self, m: &OutboxEntry) -> Result<Message, String> {
        let mut builder = Message::builder().from(self.from.clone());
        for to in m.target.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            builder = builder.to(to.parse().map_err(|e| format!("`{to}`: {e}"))?);
        }
        let id =
            m.idempotency_key.chars().filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c)).collect::<String>();
        builder = builder.message_id(Some(format!("<{id}@hazewarn>")));
        let built = if m.kind == "notice" {
            let (n, reminder) = notice_payload(&m.payload)?;
            let url = self.links.url(&self.links.for_notice(&n, &self.name).token);
            let again = if reminder { "（提醒：尚未确认）" } else { "" };
            let subject = format!("【{}预警】重污染天气应急减排通知{again} {}", n.level.zh(), n.id);
            let text = format!("{}\n\n确认收到（无需登录）：{url}\n", n.to_text());
            let html = format!(
                "<p><a href=\"{u}\">确认收到（无需登录）</a></p>\n<p>{u}</p><hr>\n<pre>{}</pre>",
                html_escape(&n.to_text()),
                u = html_escape(&url),
            );
            let printable = Attachment::new(format!("{}.html", n.id))
                .body(n.to_html(), ContentType::parse("text/html; charset=utf-8").expect("a valid content type"));
            builder.subject(subject).multipart(
                MultiPart::mixed().multipart(MultiPart::alternative_plain_html(text, html)).singlepart(printable),
            )
        } else if m.kind == "code" {
            let v: serde_json::Value =
                serde_json::from_str(&m.payload).map_err(|e| format!("the code does not read: {e}"))?;
            let (code, minutes) = (v["code"].as_str().unwrap_or_default(), v["minutes"].as_i64().unwrap_or_default());
            let text = format!(
                "您的登录验证码为 {code}，{minutes} 分钟内有效。请勿告诉他人。\n\nYour sign-in code is {code}; it is good for {minutes} minutes.\n"
            );
            builder.subject("重污染天气应急：登录验证码").singlepart(SinglePart::plain(text))
        } else {
            let text = crate::robots::robot_text(&m.kind, &m.payload);
            let subject = text.lines().next().unwrap_or("hazewarn").trim_start_matches('#').trim().to_owned();
            builder.subject(subject).singlepart(SinglePart::plain(text))
        };
        built.map_err(|e| format!("the message does not build: {e}"))
    }
}

/// How an SMTP failure ends the send: a 5xx answer, or a TLS handshake the server failed (an
/// unknown certificate authority, a wrong name: the TLS layer reports these as invalid data), is
/// refused for good; a 4xx, a refused or broken connection or a timeout may pass.
fn smtp_outcome(e: &lettre::transport::smtp::Error) -> SendResult {
    let error = e.to_string();
    let mut source = std::error::Error::source(e);
    let mut bad_tls = false;
    while let Some(s) = source {
        bad_tls |= s.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::InvalidData);
        source = s.source();
    }
    if e.is_permanent() || e.is_client() || e.is_tls() || bad_tls {
        SendResult::Permanent(error)
    } else {
        SendResult::Transient { error, retry_after: None }
    }
}

impl Channel for Smtp {
    fn name(&self) -> &str {
        &self.name
    }

    fn target(&self, kind: &str, to: &Recipient) -> Option<String> {
        (self.accepts(kind) && !to.emails.is_empty()).then(|| to.emails.join(","))
    }

    fn accepts(&self, kind: &str) -> bool {
        ["notice", "office", "code", "alarm"].contains(&kind)
    }

    fn person(&self) -> Option<PersonChannel> {
        Some(PersonChannel::Email)
    }

    fn send<'a>(&'a self, m: &'a OutboxEntry) -> SendFuture<'a> {
        Box::pin(async move {
            let message = match self.message(m) {
                Ok(msg) => msg,
                Err(e) => return SendResult::Permanent(e),
            };
            match self.transport.send(message).await {
                Ok(r) => SendResult::Delivered(format!("SMTP {}", r.code())),
                Err(e) => smtp_outcome(&e),
            }
        })
    }
}
