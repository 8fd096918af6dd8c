//! Replays the inputs kept in `fuzz/regressions/` (hand-made seeds and any crash `benches/fuzz.sh`
//! found) through the parsers they broke or probe: each gives a located error or a value, never a
//! panic, and a CAP alert built from any text is well-formed XML.

use chrono::{DateTime, Duration};

use crate::*;

pub(crate) fn regressions(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no inputs", dir.display());
    files.into_iter().map(|p| (p.display().to_string(), std::fs::read(&p).unwrap())).collect()
}

#[test]
fn fuzz_regressions_of_the_list_readers_are_errors_not_panics() {
    for (name, bytes) in regressions("reduction_list_csv") {
        let r = ReductionList::from_csv(&bytes, &GradeRuleTable::builtin());
        assert!(matches!(r, Err(ResponseError::ListImport(ref i)) if !i.is_empty()), "{name}: {r:?}");
    }
    for (name, bytes) in regressions("reduction_list_xlsx") {
        let r = ReductionList::from_xlsx(&bytes, &GradeRuleTable::builtin());
        assert!(matches!(r, Err(ResponseError::ListImport(ref i)) if !i.is_empty()), "{name}: {r:?}");
    }
}

#[test]
fn fuzz_regressions_of_the_cap_builder_stay_well_formed() {
    for (name, bytes) in regressions("cap_alert") {
        let text = String::from_utf8_lossy(&bytes);
        // Split as `fuzz/fuzz_targets/cap_alert.rs` does: the first half is the author.
        let (by, reason) = text.split_at(text.char_indices().nth(text.chars().count() / 2).map_or(0, |(i, _)| i));
        let at = DateTime::parse_from_rfc3339("2026-01-04T16:00:00+08:00").unwrap();
        let who = Actor { by, at, reason, forecast_id: "fuzz" };
        let mut w = Warning::draft("FZ-1", WarningLevel::Orange, at, at + Duration::days(3), &who).unwrap();
        w.issue(&who).unwrap();
        let xml = warning_alert(&w, w.current(), &CapConfig::luohe(), &[], 1).unwrap().to_xml();
        roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{name}: {e}\n{xml}"));
    }
}
