//! HJ 212-2017 (污染物在线监控（监测）系统数据传输标准), the protocol online emission monitors
//! speak to the city: a frame is `##`, the data segment's length in four digits, the data
//! segment, its CRC16 in four hex digits, and `\r\n`. The data segment is `KEY=value;` fields
//! (`QN`, `ST`, `CN`, `PW`, `MN`, `Flag`, `PNUM`, `PNO`) and the command parameters
//! `CP=&&…&&`, whose items are `DataTime=…` and `<code>-<field>=<value>` (`a34013-Rtd=12.5`).
//!
//! This crate is the pure codec: no IO, no clock. [`Frames`] cuts a byte stream into frames
//! (a frame may arrive split over reads, or several in one), [`Packet::decode`] checks and reads
//! one, [`Packet::encode`] writes one, and [`answer`] builds the answers a receiver sends.
//! Every refusal is a [`Hj212Error`] naming the field.

mod crc;
mod frames;
mod packet;

pub use crc::crc16;
pub use frames::{Framed, Frames};
pub use packet::{Packet, Value, answer};

/// Why a frame or packet was refused; the field it names is the standard's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Hj212Error {
    #[error("header: a frame starts with `##`")]
    Header,
    #[error("length: `{0}` is not four digits")]
    Length(String),
    #[error("length: the header says {declared} bytes but the data segment has {actual}")]
    LengthMismatch { declared: usize, actual: usize },
    #[error("crc: `{0}` is not four hex digits")]
    CrcFormat(String),
    #[error("crc: the packet says {given}, the data segment's CRC16 is {computed}")]
    CrcMismatch { given: String, computed: String },
    #[error("tail: a frame ends with \\r\\n")]
    Tail,
    #[error("{field}: {message}")]
    Field { field: String, message: String },
}

fn field_error(field: &str, message: impl Into<String>) -> Hj212Error {
    Hj212Error::Field { field: field.to_owned(), message: message.into() }
}

#[cfg(test)]
mod tests;
