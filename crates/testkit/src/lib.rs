//! Real protocol peers on loopback for the tests and benchmarks of the channels that reach a
//! person: an SMTP server and Tencent Cloud's SMS API. Each checks what the protocol or the
//! provider's documentation requires, independently of the code under test, and records what it
//! accepted. Its own crate so the scheduler's unit tests, the integration tests and the
//! benchmarks share one copy; nothing in a release build depends on it.

pub mod smtp;
pub mod tencent;
