//! Text as it crosses the edges, shared by every reader of files and forms.
//!
//! * Files must be UTF-8; a GBK file (how Excel saves a CSV on a Chinese Windows) is named as
//!   such ([`utf8_text`]) instead of being read as garbled characters.
//! * Free text that ends up in published XML (CAP, Atom) and HTML may hold only the characters
//!   XML 1.0 allows (§2.2 `Char`) and is bounded in length ([`check_text`]). Text pasted from
//!   Word often carries control characters such as U+000B (a manual line break) that no XML
//!   parser accepts; [`xml_escape`] drops them from output too.
//!
//! Its own crate because both `ingest` and `response` read files, and neither depends on the
//! other.

/// Whether XML 1.0 allows `c` in a document.
pub fn xml_char_allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Refuses text with a character XML 1.0 forbids or with more than `max_chars` characters,
/// naming the field, the character and where it is.
pub fn check_text(field: &str, value: &str, max_chars: usize) -> Result<(), String> {
    if let Some((k, c)) = value.chars().enumerate().find(|(_, c)| !xml_char_allowed(*c)) {
        return Err(format!(
            "`{field}` contains the control character U+{:04X} at character {}, which XML does not allow \
             (often pasted from Word); remove it",
            c as u32,
            k + 1
        ));
    }
    let n = value.chars().count();
    if n > max_chars {
        return Err(format!("`{field}` has {n} characters; at most {max_chars} are allowed"));
    }
    Ok(())
}

/// Escapes text for XML and HTML, dropping any character XML 1.0 forbids, so what is published
/// is well-formed even for text stored before inputs were checked.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if xml_char_allowed(c) => out.push(c),
            _ => {}
        }
    }
    out
}

/// The text of a file that must be UTF-8. A GBK file, which is how Excel saves a CSV on a
/// Chinese Windows, is named as such instead of being read as garbled characters.
pub fn utf8_text(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
        if looks_like_gbk(bytes) {
            format!("not UTF-8 (looks like GBK, from line {line}); save it as UTF-8 (Excel: \"CSV UTF-8\")")
        } else {
            format!("not UTF-8 (the first invalid byte is on line {line}); save it as UTF-8")
        }
    })
}

/// Whether every non-ASCII byte pairs up as a GBK character: a lead byte 0x81–0xFE and a trail
/// byte 0x40–0xFE other than 0x7F.
fn looks_like_gbk(bytes: &[u8]) -> bool {
    let (mut i, mut pairs) = (0, 0);
    while i < bytes.len() {
        if bytes[i] < 0x80 {
            i += 1;
            continue;
        }
        let trail = bytes.get(i + 1).copied().unwrap_or(0);
        if !(0x81..=0xFE).contains(&bytes[i]) || !(0x40..=0xFE).contains(&trail) || trail == 0x7F {
            return false;
        }
        pairs += 1;
        i += 2;
    }
    pairs > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_and_named() {
        let e = check_text("reason", "会商\u{1}后发布", 100).unwrap_err();
        assert!(e.contains("U+0001 at character 3"), "{e}");
        let e = check_text("reason", "a\u{b}b", 100).unwrap_err();
        assert!(e.contains("U+000B at character 2"), "{e}");
        assert!(check_text("reason", "第一行\n第二行\t制表\r\n", 100).is_ok());
        assert!(check_text("reason", "\u{FFFE}", 100).is_err());
        assert!(check_text("reason", "😀", 100).is_ok());
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        assert!(check_text("note", &"预".repeat(10), 10).is_ok());
        assert_eq!(
            check_text("note", &"预".repeat(11), 10).unwrap_err(),
            "`note` has 11 characters; at most 10 are allowed"
        );
    }

    #[test]
    fn escaping_drops_what_xml_forbids() {
        assert_eq!(xml_escape("a\u{1}<b>&\u{b}\"c\u{FFFF}"), "a&lt;b&gt;&amp;&quot;c");
        let doc = format!("<r>{}</r>", xml_escape("x\u{0}\u{1f}y\u{7f}"));
        roxmltree::Document::parse(&doc).unwrap();
    }

    #[test]
    fn a_gbk_file_is_named_as_gbk() {
        // "企业名称,县区\n" in GBK, written byte by byte from the GB 2312 code table.
        let gbk = [0xC6, 0xF3, 0xD2, 0xB5, 0xC3, 0xFB, 0xB3, 0xC6, b',', 0xCF, 0xD8, 0xC7, 0xF8, b'\n'];
        let e = utf8_text(&gbk).unwrap_err();
        assert!(e.starts_with("not UTF-8 (looks like GBK, from line 1)"), "{e}");
        let e = utf8_text(b"a\nb\n\xff\xff\xff").unwrap_err();
        assert!(e.starts_with("not UTF-8 (the first invalid byte is on line 3)"), "{e}");
        assert_eq!(utf8_text("企业名称".as_bytes()).unwrap(), "企业名称");
    }
}
