//! The HJ 212 receiver: a TCP listener beside the scheduler (`serve`, `run`) where online
//! monitors upload their data. Each connection's bytes are cut into frames (split or merged, as
//! TCP delivers them); a frame with a bad length or CRC is logged with its reason and counted
//! for its device, and gets no answer, as the standard asks. A packet from a device the city does
//! not list, or with the wrong `PW`, is refused with 9011 `QnRtn=3` (the same answer for both,
//! so the port does not tell a stranger which MNs exist; the log says which). An upload dated
//! more than ten minutes ahead is refused unanswered, so a device with a wrong clock cannot take
//! the place of the readings to come. A data upload (2011 real-time, 2051
//! minute, 2061 hourly, 2031 daily) is stored, and only then answered with 9014 when its `Flag`
//! asks, so a packet the device saw answered is never lost to a crash.

use std::sync::Arc;

use hazewarn_hj212::{Framed, Frames, Packet, Value, answer};
use hazewarn_store::monitoring::Reading;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::SchedulerError;
use crate::city::City;

/// Data commands whose values are stored.
pub const DATA_COMMANDS: [&str; 4] = ["2011", "2051", "2061", "2031"];
/// A connection that sends nothing for this long is closed.
const IDLE: std::time::Duration = std::time::Duration::from_secs(600);
/// A device that does not take its answer within this long is dropped.
const WRITE: std::time::Duration = std::time::Duration::from_secs(30);
/// How far ahead of the city's clock a `DataTime` may be.
const AHEAD_MINUTES: i64 = 10;

pub use crate::readings_writer::ReceiverCounts;
pub use hazewarn_store::monitoring::DeviceCounts;

/// The `MN=` a frame names, read without trusting the frame (for counting a bad one).
fn claimed_mn(frame: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(frame);
    let at = text.find("MN=")? + 3;
    let mn: String = text[at..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    (!mn.is_empty()).then_some(mn)
}

/// A packet's values as rows: each code's numeric and text fields, its `Flag` beside them.
pub fn readings(p: &Packet) -> Vec<Reading> {
    let (mn, cn) = (p.mn.clone().unwrap_or_default(), p.cn.clone().unwrap_or_default());
    let data_time = p.data_time.map(|t| t.to_rfc3339()).unwrap_or_default();
    let mut rows = Vec::new();
    for (code, fields) in &p.values {
        let flag = match fields.get("Flag") {
            Some(Value::Text(f)) => Some(f.clone()),
            _ => None,
        };
        for (field, v) in fields.iter().filter(|(f, _)| f.as_str() != "Flag") {
            let (value, text) = match v {
                Value::Number(n) => (Some(*n), None),
                Value::Text(t) => (None, Some(t.clone())),
            };
            rows.push(Reading {
                mn: mn.clone(),
                cn: cn.clone(),
                data_time: data_time.clone(),
                code: code.clone(),
                field: field.clone(),
                value,
                text,
                flag: flag.clone(),
                qn: p.qn.clone(),
            });
        }
    }
    rows
}

impl City {
    /// What the receiver does with one frame: store what it carries and say what to answer.
    pub async fn take_frame(&self, frame: &[u8], peer: &str) -> Result<Option<String>, SchedulerError> {
        let counts = &self.monitor_counts;
        self.readings_writer.start();
        let p = match Packet::decode(frame) {
            Ok(p) => p,
            Err(e) => {
                // Counted for a listed device only: a stranger's MN names nothing.
                let claimed = claimed_mn(frame).filter(|mn| self.devices.contains_key(mn));
                let who = claimed.unwrap_or_else(|| format!("unlisted {}", peer_ip(peer)));
                tracing::warn!(device = %who, %peer, error = %e, "HJ 212 frame refused");
                counts.add(&who, |c| c.bad_frames += 1);
                return Ok(None);
            }
        };
        let mn = p.mn.clone().unwrap_or_default();
        let Some(device) = self.devices.get(&mn) else {
            tracing::warn!(device = %mn, %peer, "HJ 212 packet from a device the city does not list");
            counts.add(&format!("unlisted {}", peer_ip(peer)), |c| c.refused += 1);
            return Ok(Some(answer::request(&p, 3)));
        };
        let who = counts.add(&mn, |c| c.packets += 1);
        if p.pw.as_deref() != Some(device.password.as_str()) {
            tracing::warn!(device = %mn, %peer, "HJ 212 packet with a wrong password");
            counts.add(&mn, |c| c.refused += 1);
            return Ok(Some(answer::request(&p, 3)));
        }
        let cn = p.cn.as_deref().unwrap_or_default();
        if DATA_COMMANDS.contains(&cn) {
            let ahead = p.data_time.map(|t| t.with_timezone(&chrono::Utc) - self.now());
            if ahead.is_none_or(|a| a > chrono::Duration::minutes(AHEAD_MINUTES)) {
                tracing::warn!(device = %mn, cn, data_time = ?p.data_time, "HJ 212 upload without DataTime, or dated ahead");
                counts.add(&mn, |c| c.bad_frames += 1);
                return Ok(None);
            }
            // Stored before it is answered: an answered packet is never lost.
            self.readings_writer.save(who, readings(&p)).await?;
        }
        Ok(p.wants_answer().then(|| answer::data(&p)))
    }
}

/// The address without its port, so one sender's connections share a count.
fn peer_ip(peer: &str) -> &str {
    peer.rsplit_once(':').map_or(peer, |(ip, _)| ip)
}

/// Accepts monitors for as long as it runs; each connection runs on its own. A failed accept
/// (out of file descriptors, a connection reset before it was taken) is logged and waited out.
pub async fn receive(city: Arc<City>, listener: TcpListener) -> Result<(), SchedulerError> {
    loop {
        let (socket, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::error!(error = %e, "HJ 212 receiver: accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                continue;
            }
        };
        let city = city.clone();
        tokio::spawn(async move {
            if let Err(e) = connection(&city, socket, &peer.to_string()).await {
                tracing::warn!(%peer, error = %e, "HJ 212 connection ended");
            }
        });
    }
}

async fn connection(city: &City, mut socket: TcpStream, peer: &str) -> Result<(), SchedulerError> {
    let io = |e: std::io::Error| SchedulerError::Job(format!("HJ 212 {peer}: {e}"));
    let mut frames = Frames::new();
    let mut buf = vec![0u8; 8192];
    loop {
        let Ok(read) = tokio::time::timeout(IDLE, socket.read(&mut buf)).await else {
            return Err(SchedulerError::Job(format!("HJ 212 {peer}: idle for {} s", IDLE.as_secs())));
        };
        let n = read.map_err(io)?;
        if n == 0 {
            return Ok(());
        }
        frames.push(&buf[..n]);
        while let Some(f) = frames.next() {
            match f {
                Framed::Frame(frame) => {
                    if let Some(reply) = city.take_frame(&frame, peer).await? {
                        tokio::time::timeout(WRITE, socket.write_all(reply.as_bytes()))
                            .await
                            .map_err(|_| SchedulerError::Job(format!("HJ 212 {peer}: the answer was not taken")))?
                            .map_err(io)?;
                    }
                }
                Framed::Dropped { bytes, error } => {
                    tracing::warn!(%peer, bytes, %error, "HJ 212 bytes dropped");
                    city.monitor_counts.add(&format!("unlisted {}", peer_ip(peer)), |c| c.bad_frames += 1);
                }
            }
        }
    }
}
