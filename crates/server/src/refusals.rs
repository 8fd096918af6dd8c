//! Refusals in Chinese. The checks (in the core, the scheduler, the store and the API) refuse in
//! English, and the API answers in those words; a Chinese page shows the same refusal from
//! `refusals.toml`. As in gettext, the English text is the key: an entry's `en` is the check's
//! words with `{name}` for each part that varies, `zh` says the same with the same parts, and
//! each part is translated in its turn when it is itself a refusal or a word of the table (a
//! level, a field, a step), so composed refusals need one entry per piece.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Source {
    refusal: Vec<Entry>,
    word: HashMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    en: String,
    zh: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Part(String),
}

struct Pattern {
    en: Vec<Piece>,
    zh: Vec<Piece>,
}

impl Pattern {
    fn literal_len(&self) -> usize {
        self.en.iter().map(|p| if let Piece::Text(t) = p { t.len() } else { 0 }).sum()
    }
}

struct Catalogue {
    /// The most specific first (the most literal text), so that a general pattern such as
    /// "{file}: {why}" is tried only when nothing more precise matches.
    patterns: Vec<Pattern>,
    words: HashMap<String, String>,
}

const SOURCE: &str = include_str!("../refusals.toml");

static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| load(SOURCE).unwrap_or_else(|e| panic!("refusals.toml: {e}")));

fn load(text: &str) -> Result<Catalogue, String> {
    let source: Source = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut patterns = Vec::with_capacity(source.refusal.len());
    for (k, e) in source.refusal.iter().enumerate() {
        let at = |lang: &str, why: String| format!("refusal {} ({lang} {:?}): {why}", k + 1, e.en);
        let en = pieces(&e.en).map_err(|w| at("en", w))?;
        let zh = pieces(&e.zh).map_err(|w| at("zh", w))?;
        fn names(p: &[Piece]) -> Vec<&String> {
            let mut n: Vec<&String> =
                p.iter().filter_map(|x| if let Piece::Part(n) = x { Some(n) } else { None }).collect();
            n.sort();
            n.dedup();
            n
        }
        if names(&en) != names(&zh) {
            return Err(at("zh", format!("has parts {:?} where the English has {:?}", names(&zh), names(&en))));
        }
        if en.windows(2).any(|w| matches!(w, [Piece::Part(_), Piece::Part(_)])) {
            return Err(at("en", "two parts touch; text must separate them".into()));
        }
        if !en.iter().any(|p| matches!(p, Piece::Text(_))) {
            return Err(at("en", "has no text of its own".into()));
        }
        patterns.push(Pattern { en, zh });
    }
    patterns.sort_by_key(|p| std::cmp::Reverse(p.literal_len()));
    Ok(Catalogue { patterns, words: source.word })
}

/// Splits "a {b} c" into text and named parts.
fn pieces(s: &str) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            out.push(Piece::Text(rest[..open].to_owned()));
        }
        let close = rest[open..].find('}').ok_or("a `{` is not closed")? + open;
        let name = &rest[open + 1..close];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            return Err(format!("`{{{name}}}` is not a part name (lowercase letters and `_`)"));
        }
        out.push(Piece::Part(name.to_owned()));
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        return Err("a `}` has no `{`".into());
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest.to_owned()));
    }
    Ok(out)
}

/// Matches `text` against the pieces, each part taking the shortest text that lets the rest
/// match; the parts found are pushed onto `parts`.
fn matches<'t>(pieces: &[Piece], text: &'t str, parts: &mut Vec<(String, &'t str)>) -> bool {
    match pieces {
        [] => text.is_empty(),
        [Piece::Text(t), rest @ ..] => text.strip_prefix(t.as_str()).is_some_and(|r| matches(rest, r, parts)),
        [Piece::Part(name)] if !text.is_empty() => {
            parts.push((name.clone(), text));
            true
        }
        [Piece::Part(name), rest @ ..] => {
            let Some(Piece::Text(next)) = rest.first() else { return false };
            for (at, _) in text.match_indices(next.as_str()).filter(|(at, _)| *at > 0) {
                let depth = parts.len();
                parts.push((name.clone(), &text[..at]));
                if matches(rest, &text[at..], parts) {
                    return true;
                }
                parts.truncate(depth);
            }
            false
        }
    }
}

impl Catalogue {
    fn translate(&self, text: &str, depth: usize) -> Option<String> {
        if let Some(w) = self.words.get(text) {
            return Some(w.clone());
        }
        if depth > 6 {
            return None;
        }
        self.patterns.iter().find_map(|p| {
            let mut parts = Vec::new();
            if !matches(&p.en, text, &mut parts) {
                return None;
            }
            let part = |name: &str| {
                let value = parts.iter().find(|(n, _)| n == name).map_or("", |(_, v)| *v);
                self.translate(value, depth + 1).unwrap_or_else(|| value.to_owned())
            };
            Some(
                p.zh.iter()
                    .map(|piece| match piece {
                        Piece::Text(t) => t.clone(),
                        Piece::Part(n) => part(n),
                    })
                    .collect(),
            )
        })
    }
}

/// The refusal `detail` in Chinese, line by line, or `None` when some line is no refusal of
/// the catalogue. Parts that are data (ids, times, file names) stay as they are.
pub fn chinese(detail: &str) -> Option<String> {
    let lines: Option<Vec<String>> = detail.lines().map(|line| CATALOGUE.translate(line.trim(), 0)).collect();
    lines.map(|l| l.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue(entries: &[(&str, &str)], words: &[(&str, &str)]) -> Catalogue {
        let mut t = String::new();
        for (en, zh) in entries {
            t += &format!("[[refusal]]\nen = {en:?}\nzh = {zh:?}\n");
        }
        t += "[word]\n";
        for (en, zh) in words {
            t += &format!("{en:?} = {zh:?}\n");
        }
        load(&t).unwrap()
    }

    #[test]
    fn a_composed_refusal_is_translated_piece_by_piece() {
        let c = catalogue(
            &[
                ("illegal warning transition: {why}", "预警状态转换不允许：{why}"),
                ("{kind} of warning {id} while {state}: {why}", "预警 {id} 处于{state}状态，不能{kind}：{why}"),
                ("an upgrade must raise the level", "升级必须提高级别"),
            ],
            &[("Upgrade", "升级"), ("Issued", "已发布")],
        );
        assert_eq!(
            c.translate(
                "illegal warning transition: Upgrade of warning W-2026-001 while Issued: an upgrade must raise the level",
                0
            )
            .as_deref(),
            Some("预警状态转换不允许：预警 W-2026-001 处于已发布状态，不能升级：升级必须提高级别")
        );
    }

    #[test]
    fn the_most_specific_pattern_wins_and_data_stays_as_written() {
        let c = catalogue(
            &[
                ("{file}: {why}", "{file}：{why}"),
                ("the recommendation of {run} is stale: {why}", "预报 {run} 的建议已过期：{why}"),
                ("`{field}` is required", "{field}为必填项"),
            ],
            &[("level", "级别")],
        );
        assert_eq!(
            c.translate("the recommendation of luohe-20260105T08 is stale: `level` is required", 0).as_deref(),
            Some("预报 luohe-20260105T08 的建议已过期：级别为必填项")
        );
        // A part that is no refusal and no word is data, kept as it is.
        assert_eq!(c.translate("list.csv: `grade` is required", 0).as_deref(), Some("list.csv：grade为必填项"));
        assert_eq!(c.translate("no pattern has this", 0), None);
    }

    #[test]
    fn a_part_takes_the_shortest_text_that_lets_the_rest_match() {
        let p = pieces("row {row}, column `{column}`: {why}").unwrap();
        let mut parts = Vec::new();
        assert!(matches(&p, "row 7, column `grade`: `E`, `F`: not grades", &mut parts));
        assert_eq!(
            parts,
            vec![("row".into(), "7"), ("column".into(), "grade"), ("why".into(), "`E`, `F`: not grades")]
        );
        assert!(!matches(&p, "row , column `grade`: x", &mut Vec::new()), "a part is never empty");
    }

    #[test]
    fn malformed_entries_are_refused_naming_the_entry() {
        let bad = [
            ("{a}{b} touch", "{a}{b}"),
            ("`{x}` is required", "{y}为必填项"),
            ("{only}", "{only}"),
            ("{Bad} name", "{Bad}"),
            ("open {x", "{x}"),
        ];
        for (en, zh) in bad {
            let t = format!("[[refusal]]\nen = {en:?}\nzh = {zh:?}\n[word]\n");
            let e = load(&t).err().unwrap_or_else(|| panic!("{en:?} was accepted"));
            assert!(e.starts_with("refusal 1 ("), "{e}");
        }
    }

    #[test]
    fn every_refusal_of_the_catalogue_reads_in_chinese_with_the_same_parts() {
        let c = &*CATALOGUE;
        assert!(c.patterns.len() > 50, "the catalogue has {} refusals", c.patterns.len());
        let mut wrong = Vec::new();
        for p in &c.patterns {
            for piece in &p.zh {
                if let Piece::Text(t) = piece
                    && !crate::messages::latin_words(t).is_empty()
                {
                    wrong.push(format!("{t:?}: English in the Chinese"));
                }
            }
        }
        for (en, zh) in &c.words {
            if !crate::messages::latin_words(zh).is_empty() {
                wrong.push(format!("word {en}: English in the Chinese {zh:?}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}
