//! Any text as a warning's reason and author: the CAP alert built from it is well-formed XML.
#![no_main]
use chrono::{DateTime, Duration};
use hazewarn_response::{Actor, CapConfig, Warning, WarningLevel, warning_alert};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (by, reason) = text.split_at(text.char_indices().nth(text.chars().count() / 2).map_or(0, |(i, _)| i));
    let at = DateTime::parse_from_rfc3339("2026-01-04T16:00:00+08:00").unwrap();
    let who = Actor { by, at, reason, forecast_id: "fuzz" };
    let Ok(mut w) = Warning::draft("FZ-1", WarningLevel::Orange, at, at + Duration::days(3), &who) else { return };
    if w.issue(&who).is_err() {
        return;
    }
    if let Ok(alert) = warning_alert(&w, w.current(), &CapConfig::luohe(), &[], 1) {
        let xml = alert.to_xml();
        if let Err(e) = roxmltree::Document::parse(&xml) {
            panic!("not well-formed: {e}\n{xml}");
        }
    }
});
