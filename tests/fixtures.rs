//! Shared by the integration tests and the delivery benchmark: a real webhook receiver on a local
//! socket that misbehaves on purpose (it fails, times out and answers slowly at random, seeded)
//! and records every request it saw; and a generated reduction list of any size.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Received {
    pub idempotency_key: String,
    pub signature_ok: bool,
    pub body: String,
    /// The status the receiver answered (200 means it accepted the message).
    pub status: u16,
}

pub struct Receiver {
    pub url: String,
    pub log: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Shares of requests that fail (500), are refused with `Retry-After: 0` (503), hang past the
/// client's timeout before accepting, or accept slowly.
#[derive(Clone, Copy)]
pub struct Mischief {
    pub fail: f64,
    pub busy: f64,
    pub hang: f64,
    pub slow: f64,
    pub hang_ms: u64,
}

impl Receiver {
    pub fn start(secret: &'static str, mischief: Mischief, seed: u64) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let counter = Arc::new(AtomicU64::new(seed));
        let (l2, s2) = (log.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (log, counter) = (l2.clone(), counter.clone());
                std::thread::spawn(move || serve(conn, secret, mischief, &log, &counter));
            }
        });
        Receiver { url, log, stop }
    }

    pub fn accepted(&self) -> Vec<Received> {
        self.log.lock().unwrap().iter().filter(|r| r.status == 200).cloned().collect()
    }
}

/// SplitMix64 on a shared counter: a different, reproducible draw per request.
fn draw(counter: &AtomicU64) -> f64 {
    let mut z = counter.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::SeqCst).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) as f64 / u64::MAX as f64
}

fn serve(conn: TcpStream, secret: &str, m: Mischief, log: &Mutex<Vec<Received>>, counter: &AtomicU64) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut out = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let (mut length, mut key, mut sig) = (0usize, String::new(), String::new());
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (name, value) = h.split_once(':').unwrap_or((h, ""));
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "idempotency-key" => key = value.trim().to_owned(),
                "x-hazewarn-signature" => sig = value.trim().to_owned(),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let signature_ok = sig == hazewarn_scheduler::signature(secret.as_bytes(), &body);
        let x = draw(counter);
        let (status, extra, delay) = if x < m.fail {
            (500, "", 0)
        } else if x < m.fail + m.busy {
            (503, "Retry-After: 0\r\n", 0)
        } else if x < m.fail + m.busy + m.hang {
            (200, "", m.hang_ms)
        } else if x < m.fail + m.busy + m.hang + m.slow {
            (200, "", 80)
        } else {
            (200, "", 0)
        };
        std::thread::sleep(Duration::from_millis(delay));
        log.lock().unwrap().push(Received {
            idempotency_key: key,
            signature_ok,
            body: String::from_utf8_lossy(&body).into_owned(),
            status,
        });
        let reply = format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\n{extra}\r\n");
        if out.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// A reduction list of `n` enterprises, one line each, with their own measures (CSV).
pub fn list_csv(n: usize) -> String {
    let mut s = hazewarn_response::COLUMNS.iter().map(|c| c.0).collect::<Vec<_>>().join(",");
    s.push('\n');
    for i in 0..n {
        let code = hazewarn_response::CreditCode::with_check(&format!("91411100MA{:07}", 1_000_000 + i)).unwrap();
        let (mobile, email) = list_contacts(i);
        s += &format!(
            "{},测试企业{i:05}有限公司,示例县,测试行业,C,,,联系人,,1#线,1000,1000,900,1,2,3,4,0,cut:20,cut:40,stop,{mobile},{email},\n",
            code.as_str()
        );
    }
    s
}

/// The mobile and e-mail of enterprise `i` of [`list_csv`].
pub fn list_contacts(i: usize) -> (String, String) {
    (format!("139{i:08}"), format!("e{i:05}@qiye.example.com"))
}
