//! Real protocol peers on loopback for the channel tests: an SMTP server, Tencent Cloud's SMS
//! API and a city SMS gateway. Each checks what the protocol or the provider's documentation
//! requires, independently of the code under test, and records what it accepted.

pub mod smtp;
pub mod tencent;
