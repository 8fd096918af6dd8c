//! Cutting a TCP byte stream into frames: bytes are pushed as they arrive, and each complete
//! frame (from `##` to `\r\n`, by its declared length) comes out once. Bytes before a `##` are
//! skipped and reported, so a device that sends garbage costs nothing but a log line.

use crate::Hj212Error;

/// The longest data segment four digits can declare.
const MAX_DATA: usize = 9999;

#[derive(Debug, Default)]
pub struct Frames {
    buf: Vec<u8>,
}

/// One thing the stream yielded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framed {
    /// A whole frame, `##` to `\r\n` (its CRC not yet checked).
    Frame(Vec<u8>),
    /// Bytes dropped, and why (garbage before a frame, a length that is not digits, a frame
    /// not ended by `\r\n`).
    Dropped { bytes: usize, error: Hj212Error },
}

impl Frames {
    pub fn new() -> Frames {
        Frames::default()
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes held for a frame not yet complete.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// The next frame or drop, or `None` until more bytes arrive.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<Framed> {
        let start = self.buf.windows(2).position(|w| w == b"##");
        match start {
            None if self.buf.len() > 1 => {
                // Keep a trailing `#`: it may begin the next frame.
                let keep = usize::from(self.buf.last() == Some(&b'#'));
                let bytes = self.buf.len() - keep;
                self.buf.drain(..bytes);
                return Some(Framed::Dropped { bytes, error: Hj212Error::Header });
            }
            None => return None,
            Some(s) if s > 0 => {
                self.buf.drain(..s);
                return Some(Framed::Dropped { bytes: s, error: Hj212Error::Header });
            }
            Some(_) => {}
        }
        if self.buf.len() < 6 {
            return None;
        }
        let digits = &self.buf[2..6];
        let Some(len) = std::str::from_utf8(digits)
            .ok()
            .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse::<usize>().ok())
            .filter(|n| *n <= MAX_DATA)
        else {
            let shown = String::from_utf8_lossy(digits).into_owned();
            self.buf.drain(..2);
            return Some(Framed::Dropped { bytes: 2, error: Hj212Error::Length(shown) });
        };
        let total = 6 + len + 4 + 2;
        if self.buf.len() < total {
            return None;
        }
        if &self.buf[total - 2..total] != b"\r\n" {
            // The declared length does not end where `\r\n` is: drop the `##` and look again.
            self.buf.drain(..2);
            return Some(Framed::Dropped { bytes: 2, error: Hj212Error::Tail });
        }
        Some(Framed::Frame(self.buf.drain(..total).collect()))
    }
}
