//! A minimal SMTP server (RFC 5321: EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP,
//! QUIT), in clear, behind implicit TLS (RFC 8314) or upgraded by STARTTLS (RFC 3207), with a
//! self-signed certificate for 127.0.0.1 whose PEM the client is given to trust. Recipients in
//! `refuse` get `550`, as a server does for an unknown mailbox.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
    /// Whether the message came over TLS.
    pub tls: bool,
}

/// How the server takes connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    Plain,
    /// TLS from the first byte (port 465 style).
    Implicit,
    /// Plain until the client says STARTTLS; MAIL is refused before it.
    StartTls,
}

#[derive(Clone, Default)]
pub struct SmtpServer {
    pub received: Arc<Mutex<Vec<Received>>>,
    pub refuse: Arc<Mutex<HashSet<String>>>,
}

/// A city config's `[[channels]]` entry of a plain `smtp` channel named `name` that sends to
/// this server on `port`.
pub fn channel(name: &str, port: u16) -> String {
    format!(
        "[[channels]]\nkind = \"smtp\"\nname = \"{name}\"\nhost = \"127.0.0.1\"\nport = {port}\n\
         from = \"duty@test.example.com\"\ntls = \"none\"\n"
    )
}

fn path_arg(line: &str) -> String {
    let start = line.find('<').map_or(0, |i| i + 1);
    let end = line[start..].find('>').map_or(line.len(), |i| start + i);
    line[start..end].to_owned()
}

/// A self-signed certificate for 127.0.0.1 and localhost: (the PEM a client trusts, the acceptor).
pub fn self_signed() -> (String, TlsAcceptor) {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let pem = certified.cert.pem();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(certified.cert.der().to_vec())], key)
        .unwrap();
    (pem, TlsAcceptor::from(Arc::new(config)))
}

type Session = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Any connection, plain or TLS (boxed, so the STARTTLS upgrade does not nest types).
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
type Stream = Box<dyn Io>;

impl SmtpServer {
    /// Starts a plain server on 127.0.0.1; returns the port.
    pub async fn start(&self) -> u16 {
        self.start_secured(Security::Plain, None).await
    }

    /// Starts a server on 127.0.0.1 with `security` (TLS needs `acceptor`); returns the port.
    pub async fn start_secured(&self, security: Security, acceptor: Option<TlsAcceptor>) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let me = self.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (me, acceptor) = (me.clone(), acceptor.clone());
                tokio::spawn(async move {
                    match (security, acceptor) {
                        (Security::Implicit, Some(a)) => {
                            if let Ok(tls) = a.accept(socket).await {
                                me.session(Box::new(tls), None, true).await;
                            }
                        }
                        (Security::StartTls, Some(a)) => me.session(Box::new(socket), Some(a), false).await,
                        _ => me.session(Box::new(socket), None, false).await,
                    }
                });
            }
        });
        port
    }

    /// One SMTP session; with `starttls`, MAIL waits for the upgrade, which starts the session
    /// again over TLS without a greeting (RFC 3207: the client speaks first, with a new EHLO).
    fn session(&self, stream: Stream, starttls: Option<TlsAcceptor>, tls: bool) -> Session {
        self.session_from(stream, starttls, tls, true)
    }

    fn session_from(&self, stream: Stream, starttls: Option<TlsAcceptor>, tls: bool, greet: bool) -> Session {
        let me = self.clone();
        Box::pin(async move {
            let (r, mut w) = tokio::io::split(stream);
            let mut lines = BufReader::new(r);
            let say = |s: &str| format!("{s}\r\n").into_bytes();
            if greet && w.write_all(&say("220 127.0.0.1 ESMTP testkit")).await.is_err() {
                return;
            }
            let (mut from, mut to) = (String::new(), Vec::new());
            loop {
                let mut line = String::new();
                if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                let reply = match verb.as_str() {
                    "EHLO" if starttls.is_some() => "250-127.0.0.1\r\n250-8BITMIME\r\n250 STARTTLS".to_owned(),
                    "EHLO" => "250-127.0.0.1\r\n250-8BITMIME\r\n250 SMTPUTF8".to_owned(),
                    "STAR" if starttls.is_some() => {
                        if w.write_all(&say("220 2.0.0 ready to start TLS")).await.is_err() {
                            return;
                        }
                        let stream = lines.into_inner().unsplit(w);
                        if let Ok(upgraded) = starttls.expect("checked").accept(stream).await {
                            me.session_from(Box::new(upgraded), None, true, false).await;
                        }
                        return;
                    }
                    "MAIL" if starttls.is_some() => "530 5.7.0 must issue a STARTTLS command first".to_owned(),
                    "HELO" | "NOOP" => "250 OK".to_owned(),
                    "RSET" => {
                        (from, to) = (String::new(), Vec::new());
                        "250 OK".to_owned()
                    }
                    "MAIL" => {
                        from = path_arg(&line);
                        "250 OK".to_owned()
                    }
                    "RCPT" => me.recipient(&line, &mut to),
                    "DATA" if to.is_empty() => "554 5.5.1 no valid recipients".to_owned(),
                    "DATA" => {
                        if w.write_all(&say("354 end with <CRLF>.<CRLF>")).await.is_err() {
                            return;
                        }
                        let Some(data) = read_data(&mut lines).await else { return };
                        let to = std::mem::take(&mut to);
                        me.received.lock().unwrap().push(Received { from: from.clone(), to, data, tls });
                        "250 2.0.0 queued".to_owned()
                    }
                    "QUIT" => {
                        let _ = w.write_all(&say("221 bye")).await;
                        return;
                    }
                    _ => "502 5.5.2 command not implemented".to_owned(),
                };
                if w.write_all(&say(&reply)).await.is_err() {
                    return;
                }
            }
        })
    }

    fn recipient(&self, line: &str, to: &mut Vec<String>) -> String {
        let rcpt = path_arg(line);
        if self.refuse.lock().unwrap().contains(&rcpt) {
            format!("550 5.1.1 <{rcpt}>: mailbox unavailable")
        } else {
            to.push(rcpt);
            "250 OK".to_owned()
        }
    }
}

/// The message after DATA, up to the lone dot, dot-unstuffed.
async fn read_data<R: AsyncBufReadExt + Unpin>(lines: &mut R) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    loop {
        let mut l = Vec::new();
        if lines.read_until(b'\n', &mut l).await.unwrap_or(0) == 0 {
            return None;
        }
        if l == b".\r\n" {
            return Some(data);
        }
        let unstuffed = if l.starts_with(b"..") { &l[1..] } else { &l[..] };
        data.extend_from_slice(unstuffed);
    }
}
