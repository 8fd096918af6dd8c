//! A minimal SMTP server (RFC 5321: EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP,
//! QUIT). Recipients in `refuse` get `550`, as a server does for an unknown mailbox.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

#[derive(Clone, Default)]
pub struct SmtpServer {
    pub received: Arc<Mutex<Vec<Received>>>,
    pub refuse: Arc<Mutex<HashSet<String>>>,
}

fn path_arg(line: &str) -> String {
    let start = line.find('<').map_or(0, |i| i + 1);
    let end = line[start..].find('>').map_or(line.len(), |i| start + i);
    line[start..end].to_owned()
}

impl SmtpServer {
    /// Starts listening on 127.0.0.1; returns the port.
    pub async fn start(&self) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let me = self.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let me = me.clone();
                tokio::spawn(async move { me.session(socket).await });
            }
        });
        port
    }

    async fn session(&self, socket: tokio::net::TcpStream) {
        let (r, mut w) = socket.into_split();
        let mut lines = BufReader::new(r);
        let say = |s: &str| format!("{s}\r\n").into_bytes();
        if w.write_all(&say("220 127.0.0.1 ESMTP testkit")).await.is_err() {
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
                "EHLO" => "250-127.0.0.1\r\n250-8BITMIME\r\n250 SMTPUTF8".to_owned(),
                "HELO" | "NOOP" => "250 OK".to_owned(),
                "RSET" => {
                    (from, to) = (String::new(), Vec::new());
                    "250 OK".to_owned()
                }
                "MAIL" => {
                    from = path_arg(&line);
                    "250 OK".to_owned()
                }
                "RCPT" => {
                    let rcpt = path_arg(&line);
                    if self.refuse.lock().unwrap().contains(&rcpt) {
                        format!("550 5.1.1 <{rcpt}>: mailbox unavailable")
                    } else {
                        to.push(rcpt);
                        "250 OK".to_owned()
                    }
                }
                "DATA" if to.is_empty() => "554 5.5.1 no valid recipients".to_owned(),
                "DATA" => {
                    if w.write_all(&say("354 end with <CRLF>.<CRLF>")).await.is_err() {
                        return;
                    }
                    let mut data = Vec::new();
                    loop {
                        let mut l = Vec::new();
                        if lines.read_until(b'\n', &mut l).await.unwrap_or(0) == 0 {
                            return;
                        }
                        if l == b".\r\n" {
                            break;
                        }
                        let unstuffed = if l.starts_with(b"..") { &l[1..] } else { &l[..] };
                        data.extend_from_slice(unstuffed);
                    }
                    let to = std::mem::take(&mut to);
                    self.received.lock().unwrap().push(Received { from: from.clone(), to, data });
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
    }
}
