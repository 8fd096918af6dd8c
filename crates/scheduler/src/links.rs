//! Acknowledgement links. Each notice's SMS and e-mail carry a short link good for that one
//! notice on that one channel, until the notice's window ends; opening it lets the duty officer
//! acknowledge without signing in. The token is an HMAC of (notice, channel, expiry) keyed by the
//! city's secret, so the dispatcher recomputes it at send time instead of storing it in the
//! message, and the server refuses a row it did not sign.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use hazewarn_response::CurtailmentNotice;
use hazewarn_store::AckLink;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Bytes of the HMAC kept in a token: 96 bits, 16 URL-safe characters.
const TOKEN_BYTES: usize = 12;

/// How long a link outlives the later of the notice's window and its acknowledgement deadline: a
/// lift's window ends as it is sent, and a reminder goes out after the deadline.
const GRACE_HOURS: i64 = 24;

#[derive(Clone)]
pub struct AckLinks {
    secret: Vec<u8>,
    /// The site as the public reaches it, without a trailing slash.
    base_url: String,
}

impl std::fmt::Debug for AckLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AckLinks").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

impl AckLinks {
    pub fn new(secret: &[u8], base_url: &str) -> AckLinks {
        AckLinks { secret: secret.to_vec(), base_url: base_url.trim_end_matches('/').to_owned() }
    }

    fn mac(&self, notice_id: &str, channel: &str, expires: DateTime<Utc>) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes a key of any length");
        mac.update(format!("{notice_id}\n{channel}\n{}", expires.timestamp()).as_bytes());
        mac.finalize().into_bytes()[..TOKEN_BYTES].to_vec()
    }

    /// The link row of a notice on one channel: it expires a day after the later of the
    /// notice's window and its acknowledgement deadline.
    pub fn for_notice(&self, n: &CurtailmentNotice, channel: &str) -> AckLink {
        let until = n.effective_until.max(n.ack_deadline).with_timezone(&Utc);
        let expires_at = until + chrono::Duration::hours(GRACE_HOURS);
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.mac(&n.id, channel, expires_at));
        AckLink { token, notice_id: n.id.clone(), channel: channel.to_owned(), expires_at, used_at: None }
    }

    pub fn url(&self, token: &str) -> String {
        format!("{}/a/{token}", self.base_url)
    }

    /// Whether a stored row is one this city signed (compared in constant time).
    pub fn signed(&self, link: &AckLink) -> bool {
        let Ok(given) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&link.token) else { return false };
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes a key of any length");
        mac.update(format!("{}\n{}\n{}", link.notice_id, link.channel, link.expires_at.timestamp()).as_bytes());
        given.len() == TOKEN_BYTES && mac.verify_truncated_left(&given).is_ok()
    }
}
