//! Each role's page in each language, served by `hazewarn serve` on the demo's city: the Chinese
//! pages carry no English words and the English pages no Chinese, except what is data (names
//! and measures from the list, the city's name, reasons the office typed).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

use crate::common::{add_user, repo, serve};

/// Acronyms, units and names that Chinese pages write in Latin letters, as Chinese agencies do.
const LATIN_ON_CHINESE: &[&str] = &["English", "Atom", "NOx", "VOCs"];

/// One GET with a bearer token; the body of a 200, or a panic naming the path.
fn get(addr: &str, path: &str, token: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "GET {path}: {head}");
    body.to_owned()
}

/// The text a reader sees: scripts, styles and tags removed, entities decoded, one line per
/// element.
fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        out.push('\n');
        let tag = &rest[at..];
        // Identifiers (a model's name, an account's) are shown as `<code>`, in no language.
        let skip_to = ["<script", "<style", "<noscript", "<code"]
            .iter()
            .find(|t| tag.starts_with(**t))
            .map(|t| format!("</{}>", &t[1..]));
        let end = match skip_to {
            Some(close) => tag.find(&close).map_or(tag.len(), |e| e + close.len()),
            None => tag.find('>').map_or(tag.len(), |e| e + 1),
        };
        rest = &tag[end..];
    }
    out.push_str(rest);
    decode_entities(&out)
}

/// The text of HTML character references, named (`&gt;`) or numeric (`&#62;`, as the templates
/// write them). An ampersand that starts none is left as it is.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let reference = tail.find(';').filter(|end| *end <= 8).map(|end| &tail[1..end]);
        let decoded = reference.and_then(|r| match r {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "amp" => Some('&'),
            "apos" => Some('\''),
            _ => r.strip_prefix('#').and_then(|n| n.parse::<u32>().ok()).and_then(char::from_u32),
        });
        match (decoded, reference) {
            (Some(c), Some(r)) => {
                out.push(c);
                rest = &tail[r.len() + 2..];
            }
            _ => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out + rest
}

/// English words (three letters or more, not an acronym in capitals) in the page's text, with
/// their line; words of `data` (the city's own names) aside.
fn english_words(page: &str, data: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in page.lines() {
        for token in line.split(|c: char| !(c.is_ascii_alphanumeric() || "@._-/:".contains(c))) {
            let word = token.trim_matches(|c: char| ".:-_/".contains(c));
            let english = word.len() >= 3
                && word.chars().all(|c| c.is_ascii_alphabetic())
                && word.chars().any(|c| c.is_ascii_lowercase());
            if english && !LATIN_ON_CHINESE.contains(&word) && !data.contains(&format!("\"{word}\"")) {
                found.push(format!("{word:?} in {:?}", line.trim()));
            }
        }
    }
    found
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303f}' | '\u{3400}'..='\u{9fff}' | '\u{ff00}'..='\u{ffef}')
}

/// Runs of Chinese text in the page that are not part of a whole data value on the same line
/// (a name, a measure, a reason: the pieces of `data` between quotes, commas and line ends), with
/// their line. A run that merely occurs somewhere in the data (预警, 企业) is not enough.
fn chinese_runs(page: &str, data: &str) -> Vec<String> {
    let values: Vec<&str> = data.split(['"', ',', '\n']).map(str::trim).filter(|v| v.chars().any(is_cjk)).collect();
    let mut found = Vec::new();
    for line in page.lines() {
        let mut run = String::new();
        for c in line.chars().chain(std::iter::once(' ')) {
            if is_cjk(c) {
                run.push(c);
            } else if !run.is_empty() {
                let r = std::mem::take(&mut run);
                let whole = values.iter().any(|v| v.contains(r.as_str()) && line.contains(v));
                if r != "中文" && !whole {
                    found.push(format!("{r:?} in {:?}", line.trim()));
                }
            }
        }
    }
    found
}

/// What the pages may show in Chinese on an English page because it is data, not interface.
fn data_text(out: &Path) -> String {
    let mut data = String::new();
    // The list and the warning profile's measures are the city's own words, kept as written.
    for dir in [repo().join("data/lists"), repo().join("crates/response/profiles")] {
        for f in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            data += &std::fs::read_to_string(f.path()).unwrap_or_default();
        }
    }
    // The sample's weather station is named in its file.
    let mut met = String::new();
    let gz = std::fs::File::open(repo().join("data/sample/met.csv.gz")).unwrap();
    flate2::read::GzDecoder::new(gz).read_to_string(&mut met).unwrap();
    data += met.lines().nth(1).unwrap_or_default();
    // What people typed (reasons, an enterprise's answer, a site check) is theirs.
    for f in ["city.toml", "warning.json", "compliance.json"] {
        data += &std::fs::read_to_string(out.join(f)).unwrap_or_default();
    }
    data
}

/// Signs the roles up on the demo's city, serves it and reads every page in both languages.
pub fn check_pages_of_demo(out: &Path, enterprise: &str) {
    let cfg = out.join("city.toml");
    let cfg = cfg.to_str().unwrap();
    let token = |name: &str| format!("lang-token-{name}-0123456789abcdef");
    for (name, role, code) in
        [("fc", "forecaster", None), ("office", "office", None), ("ent", "enterprise", Some(enterprise))]
    {
        add_user(cfg, &format!("lang-{name}"), role, &token(name), code);
    }
    let (mut server, addr) = serve(cfg);
    // `serve` opens on a forecast of its own day: the run in force was issued at most a day before
    // the demo clock starts, one day after the demo's first issue.
    let latest: serde_json::Value =
        serde_json::from_str(&get(&addr, "/api/v1/forecasts/latest", &token("fc"))).unwrap();
    let first_issue =
        std::fs::read_to_string(out.join("forecast_hourly.csv")).unwrap().lines().nth(1).unwrap()[..25].to_owned();
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}"));
    let clock = std::fs::read_to_string(out.join("city.toml")).unwrap();
    let clock = clock.lines().find_map(|l| l.strip_prefix("demo_clock_start = ")).unwrap().trim_matches('"').to_owned();
    let issued = at(latest["issue_time"].as_str().unwrap());
    assert_eq!(issued - at(&first_issue), chrono::Duration::days(1), "{latest}");
    assert!(issued <= at(&clock) && at(&clock) - issued <= chrono::Duration::days(1), "{issued} against {clock}");
    // A notice is a document issued in Chinese (its issuer, legal basis and measures): an
    // English page shows it as issued.
    let data = data_text(out) + &get(&addr, "/api/v1/notices", &token("ent"));
    let mut problems = Vec::new();
    let pages = [
        ("/", "fc"),
        ("/forecaster", "fc"),
        ("/office", "office"),
        ("/office/history", "office"),
        ("/office/audit", "office"),
        ("/office/print", "office"),
        ("/enterprise", "ent"),
    ];
    for (path, who) in pages {
        let zh = visible(&get(&addr, path, &token(who)));
        problems.extend(english_words(&zh, &data).into_iter().map(|p| format!("{path} (中文): {p}")));
        let en = visible(&get(&addr, &format!("{path}?lang=en"), &token(who)));
        problems.extend(chinese_runs(&en, &data).into_iter().map(|p| format!("{path}?lang=en: {p}")));
    }
    server.kill().unwrap();
    server.wait().unwrap();
    problems.dedup();
    assert!(problems.is_empty(), "{} mixed-language text(s):\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn the_checks_find_what_they_look_for() {
    // Hand-made pages: one word of English on a Chinese page, one Chinese status on an English one.
    let zh = visible("<p>状态：<b>approved</b></p><script>var x = 'ignored';</script><p>AQI 215 PM2.5</p>");
    assert_eq!(english_words(&zh, ""), ["\"approved\" in \"approved\""]);
    // A capitalised word is English too; a city's own name for a thing (its data) is not.
    let zh = visible("<p>建议：<b>Issue</b> 通道 files</p><code>gbdt</code>");
    assert_eq!(english_words(&zh, "name = \"files\""), ["\"Issue\" in \"Issue\""]);
    let en = visible("<p>Status: 已批准 · 漯河市</p>");
    assert_eq!(chinese_runs(&en, "name = \"漯河市\""), ["\"已批准\" in \"Status: 已批准 · 漯河市\""]);
    // A word the data holds inside a longer value is not data on its own.
    let en = visible("<p>Level: 橙色</p><p>Basis: 《大气污染防治法》；橙色预警</p>");
    assert_eq!(chinese_runs(&en, "basis = \"《大气污染防治法》；橙色预警\""), ["\"橙色\" in \"Level: 橙色\""]);
}
