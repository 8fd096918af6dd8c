//! Refusals in Chinese. The checks (in the core, the scheduler, the store and the API) refuse in
//! English, and the API answers in those words; a Chinese page shows the same refusal from
//! `refusals.toml`. As in gettext, the English text is the key: an entry's `en` is the check's
//! words with `{name}` for each part that varies, `zh` says the same with the same parts. A part
//! the catalogue names `translated` (a reason, a level, a field, a column) is translated in its
//! turn, as a refusal or a word of the table, so composed refusals need one entry per piece;
//! every other part is data (an id, a time, a name, a value typed in) and stays as written.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Source {
    /// The names of the parts that are words or refusals; every other part is data.
    translated: Vec<String>,
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
    translated: Vec<String>,
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
    Ok(Catalogue { patterns, words: source.word, translated: source.translated })
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

/// Every way `text` matches the pieces, shortest parts first: a part takes any non-empty text
/// after which the rest matches. Data may hold a separator (a name with " ("), so the first
/// split is not always the right one; [`Catalogue::translate`] chooses among them.
fn splits<'p, 't>(
    pieces: &'p [Piece],
    text: &'t str,
    taken: &mut Vec<(&'p str, &'t str)>,
    out: &mut Vec<Vec<(&'p str, &'t str)>>,
) {
    if out.len() >= MAX_SPLITS {
        return;
    }
    match pieces {
        [] if text.is_empty() => out.push(taken.clone()),
        [] => {}
        [Piece::Text(t), rest @ ..] => {
            if let Some(r) = text.strip_prefix(t.as_str()) {
                splits(rest, r, taken, out);
            }
        }
        [Piece::Part(name)] if !text.is_empty() => {
            taken.push((name, text));
            out.push(taken.clone());
            taken.pop();
        }
        [Piece::Part(_)] => {}
        [Piece::Part(name), rest @ ..] => {
            let Some(Piece::Text(next)) = rest.first() else { return };
            // Every position, overlapping ones too ("`: `" can start where another ends).
            for at in text.char_indices().map(|(i, _)| i).filter(|&i| i > 0 && text[i..].starts_with(next.as_str())) {
                taken.push((name, &text[..at]));
                splits(rest, &text[at..], taken, out);
                taken.pop();
            }
        }
    }
}

/// Enough for any refusal a check writes; a pathological text stops here rather than running on.
const MAX_SPLITS: usize = 64;

impl Catalogue {
    /// `text` in Chinese: a word, or a refusal with its parts; `None` when it is neither. The
    /// parts of the catalogue's `translated` names that stay English are pushed onto `missing`.
    fn translate(&self, text: &str, depth: usize, missing: &mut Vec<String>) -> Option<String> {
        if let Some(w) = self.words.get(text) {
            return Some(w.clone());
        }
        if depth > 6 {
            return None;
        }
        // The most specific refusal whose parts all read in Chinese; failing that, the one that
        // leaves the fewest parts in English.
        let mut fallback: Option<(String, Vec<String>)> = None;
        for p in &self.patterns {
            let mut found = Vec::new();
            splits(&p.en, text, &mut Vec::new(), &mut found);
            for parts in &found {
                let mut miss = Vec::new();
                let zh = self.fill(p, parts, depth, &mut miss);
                if miss.is_empty() {
                    return Some(zh);
                }
                if fallback.as_ref().is_none_or(|(_, m)| miss.len() < m.len()) {
                    fallback = Some((zh, miss));
                }
            }
        }
        fallback.map(|(zh, miss)| {
            missing.extend(miss);
            zh
        })
    }

    /// The Chinese of pattern `p` with its parts: data as written, the others translated.
    fn fill(&self, p: &Pattern, parts: &[(&str, &str)], depth: usize, missing: &mut Vec<String>) -> String {
        p.zh.iter()
            .map(|piece| match piece {
                Piece::Text(t) => t.clone(),
                Piece::Part(name) => {
                    let value = parts.iter().find(|(n, _)| n == name).map_or("", |(_, v)| *v);
                    if !self.translated.contains(name) {
                        return value.to_owned();
                    }
                    self.translate(value, depth + 1, missing).unwrap_or_else(|| {
                        missing.push(value.to_owned());
                        value.to_owned()
                    })
                }
            })
            .collect()
    }
}

/// The refusal `detail` in Chinese, and the pieces that stayed English: a line that is no
/// refusal of the catalogue, or a part of one that is none. Data (ids, times, names, values
/// typed in) stays as written, line breaks in it too. A refusal of several lines (an import's
/// problems) is read whole, or else line by line, whichever leaves less English.
pub fn chinese(detail: &str) -> (String, Vec<String>) {
    let whole = translated(detail);
    if whole.1.is_empty() || !detail.contains('\n') {
        return whole;
    }
    let by_line: Vec<(String, Vec<String>)> = detail.lines().map(|line| translated(line.trim())).collect();
    let missing: Vec<String> = by_line.iter().flat_map(|(_, m)| m.clone()).collect();
    if missing.len() >= whole.1.len() {
        return whole;
    }
    (by_line.into_iter().map(|(text, _)| text).collect::<Vec<_>>().join("\n"), missing)
}

fn translated(text: &str) -> (String, Vec<String>) {
    let mut missing = Vec::new();
    let zh = CATALOGUE.translate(text, 0, &mut missing).unwrap_or_else(|| {
        missing.push(text.to_owned());
        text.to_owned()
    });
    (zh, missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue(entries: &[(&str, &str)], words: &[(&str, &str)]) -> Catalogue {
        let mut t = "translated = [\"why\", \"kind\", \"state\", \"field\"]\n".to_owned();
        for (en, zh) in entries {
            t += &format!("[[refusal]]\nen = {en:?}\nzh = {zh:?}\n");
        }
        t += "[word]\n";
        for (en, zh) in words {
            t += &format!("{en:?} = {zh:?}\n");
        }
        load(&t).unwrap()
    }

    fn zh(c: &Catalogue, text: &str) -> (Option<String>, Vec<String>) {
        let mut missing = Vec::new();
        (c.translate(text, 0, &mut missing), missing)
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
        let (text, missing) = zh(
            &c,
            "illegal warning transition: Upgrade of warning W-2026-001 while Issued: an upgrade must raise the level",
        );
        assert_eq!(
            text.as_deref(),
            Some("预警状态转换不允许：预警 W-2026-001 处于已发布状态，不能升级：升级必须提高级别")
        );
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn the_most_specific_pattern_wins_and_data_stays_as_written() {
        let c = catalogue(
            &[
                ("{file}: {why}", "{file}：{why}"),
                ("the recommendation of {run} is stale: {why}", "预报 {run} 的建议已过期：{why}"),
                ("`{field}` is required", "{field}为必填项"),
                ("`{value}` differs from `{first}`", "`{value}` 与 `{first}` 不一致"),
            ],
            &[("level", "级别"), ("email", "邮箱")],
        );
        let (text, _) = zh(&c, "the recommendation of luohe-20260105T08 is stale: `level` is required");
        assert_eq!(text.as_deref(), Some("预报 luohe-20260105T08 的建议已过期：级别为必填项"));
        // A value typed in is data even when it spells a word of the table.
        let (text, missing) = zh(&c, "list.csv: `email` differs from `level`");
        assert_eq!(text.as_deref(), Some("list.csv：`email` 与 `level` 不一致"));
        assert!(missing.is_empty());
        // A reason that is no refusal stays English and is reported.
        let (text, missing) = zh(&c, "list.csv: the disk is full");
        assert_eq!(text.as_deref(), Some("list.csv：the disk is full"));
        assert_eq!(missing, ["the disk is full"]);
        assert_eq!(zh(&c, "no pattern has this"), (None, Vec::new()));
    }

    #[test]
    fn data_holding_a_separator_is_split_where_the_rest_reads() {
        let c = catalogue(&[("{name} ({code}): `{field}`", "{name}（{code}）：{field}")], &[("level", "级别")]);
        // The shortest split leaves `x` (d): `level` as the field, which is no word; the first
        // split whose field reads is taken.
        let (text, missing) = zh(&c, "n (c): `x` (d): `level`");
        assert_eq!(text.as_deref(), Some("n（c): `x` (d）：级别"));
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn a_part_may_end_where_its_separator_overlaps_another() {
        let p = pieces("`{a}`: {why}").unwrap();
        let mut found = Vec::new();
        splits(&p, "`x`: `y`: z", &mut Vec::new(), &mut found);
        let firsts: Vec<&str> = found.iter().map(|parts| parts[0].1).collect();
        assert_eq!(firsts, ["x", "x`: `y"]);
        let mut none = Vec::new();
        let row = pieces("row {row}, column").unwrap();
        splits(&row, "row , column", &mut Vec::new(), &mut none);
        assert!(none.is_empty(), "a part is never empty");
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
            let t = format!("translated = []\n[[refusal]]\nen = {en:?}\nzh = {zh:?}\n[word]\n");
            let e = load(&t).err().unwrap_or_else(|| panic!("{en:?} was accepted"));
            assert!(e.starts_with("refusal 1 ("), "{e}");
        }
    }

    #[test]
    fn the_catalogues_chinese_has_no_english_words() {
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
