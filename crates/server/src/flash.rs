//! The message a page shows once after a form (`?msg=` on the redirect back to it). It is signed
//! by this process, so that a link made elsewhere cannot put words in an office's or an
//! enterprise's message box. The key is random per process: a message that outlives a restart
//! is not shown, which costs nothing, since the page itself shows the state.

use std::sync::LazyLock;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Bytes of the MAC kept: 96 bits.
const SIGNATURE_BYTES: usize = 12;

static KEY: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let hex = hazewarn_scheduler::city::random_hex(32).expect("the system's random source (/dev/urandom) is readable");
    hex.into_bytes()
});

fn mac(msg: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&KEY).expect("HMAC takes a key of any length");
    mac.update(msg.as_bytes());
    mac
}

/// The signature of `msg`, in hex.
pub(crate) fn sign(msg: &str) -> String {
    mac(msg).finalize().into_bytes()[..SIGNATURE_BYTES].iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `sig` is this process's signature of `msg` (compared in constant time).
pub(crate) fn verify(msg: &str, sig: &str) -> bool {
    let bytes: Option<Vec<u8>> =
        (0..sig.len()).step_by(2).map(|i| sig.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect();
    bytes.is_some_and(|b| b.len() == SIGNATURE_BYTES && mac(msg).verify_truncated_left(&b).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_message_signed_here_verifies() {
        let sig = sign("LH-20260105 发布 橙色");
        assert_eq!(sig.len(), 2 * SIGNATURE_BYTES);
        assert!(verify("LH-20260105 发布 橙色", &sig));
        assert!(!verify("LH-20260105 解除 橙色", &sig), "another message");
        assert!(!verify("LH-20260105 发布 橙色", &sig[..22]), "a shortened signature");
        assert!(!verify("LH-20260105 发布 橙色", ""), "no signature");
        assert!(!verify("x", "zz"), "not hex");
    }
}
