//! The message catalogue: every fixed text of the pages in Chinese and English, in one file
//! (`messages.toml`) that a translator can read without the code. Entries are named by the page
//! that shows them and what they say; [`crate::pages::Lang::m`] gives one in the page's language.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    pub zh: String,
    pub en: String,
}

const SOURCE: &str = include_str!("../messages.toml");

static CATALOGUE: LazyLock<HashMap<String, Message>> =
    LazyLock::new(|| toml::from_str(SOURCE).unwrap_or_else(|e| panic!("messages.toml: {e}")));

/// The entry `key`. A key the catalogue lacks is a defect the tests find; a page shows the key
/// rather than failing.
pub fn get(key: &str) -> Option<&'static Message> {
    CATALOGUE.get(key)
}

#[cfg(test)]
/// The English words of `s`: lowercase Latin words of three letters or more. Acronyms and
/// units stay Latin on Chinese pages, as Chinese agencies write them.
pub(crate) fn latin_words(s: &str) -> Vec<&str> {
    const KEPT: &[&str] = &["xlsx", "csv"];
    s.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() >= 3 && w.chars().all(|c| c.is_ascii_lowercase()) && !KEPT.contains(w))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_chinese(s: &str) -> bool {
        s.chars().any(|c| matches!(c, '\u{3000}'..='\u{303f}' | '\u{3400}'..='\u{9fff}' | '\u{ff00}'..='\u{ffef}'))
    }

    #[test]
    fn every_entry_is_in_both_languages_and_only_in_its_own() {
        assert!(CATALOGUE.len() > 200, "the catalogue reads: {} entries", CATALOGUE.len());
        let mut wrong = Vec::new();
        for (key, m) in CATALOGUE.iter() {
            if m.zh.trim().is_empty() || m.en.trim().is_empty() {
                wrong.push(format!("{key}: empty"));
            }
            if !latin_words(&m.zh).is_empty() {
                wrong.push(format!("{key}: English in the Chinese {:?}", m.zh));
            }
            if has_chinese(&m.en) {
                wrong.push(format!("{key}: Chinese in the English {:?}", m.en));
            }
        }
        wrong.sort();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    /// The pages' source files and templates, in every folder: (path, text).
    fn sources() -> Vec<(String, String)> {
        let mut dirs = vec![
            std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
            std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/templates")),
        ];
        let mut out = Vec::new();
        while let Some(dir) = dirs.pop() {
            for f in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = f.path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    out.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
                }
            }
        }
        out
    }

    #[test]
    fn every_key_asked_for_exists_and_every_entry_is_asked_for() {
        let sources = sources();
        let mut missing = Vec::new();
        for (file, text) in &sources {
            for part in text.split("l.m(\"").skip(1) {
                let key = part.split('"').next().unwrap();
                if get(key).is_none() {
                    missing.push(format!("{file}: {key}"));
                }
            }
        }
        assert!(missing.is_empty(), "not in messages.toml:\n{}", missing.join("\n"));
        // An entry is asked for where its key is written, in a call or in a table of keys.
        let mut unused: Vec<&String> =
            CATALOGUE.keys().filter(|k| !sources.iter().any(|(_, t)| t.contains(&format!("\"{k}\"")))).collect();
        unused.sort();
        assert!(unused.is_empty(), "in messages.toml but asked for by no page: {unused:?}");
    }
}
