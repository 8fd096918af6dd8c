//! `hazewarn hj212 decode`: the operator's tool for a monitor that "sends but nothing shows
//! up". Each line of the input is one HJ 212 frame; a valid one prints as one JSON object, an
//! invalid one as `{"line": N, "error": "…"}` naming the field. Exits 1 when any line was
//! invalid. Blank lines are not frames and are passed over.

use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::{Context, Result};
use hazewarn_hj212::Packet;

/// Decodes every line; `Ok(false)` when some line was invalid.
pub fn decode(input: Option<&Path>) -> Result<bool> {
    let reader: Box<dyn BufRead> = match input {
        None => Box::new(std::io::stdin().lock()),
        Some(p) if p == Path::new("-") => Box::new(std::io::stdin().lock()),
        Some(p) => {
            Box::new(std::io::BufReader::new(std::fs::File::open(p).with_context(|| format!("{}", p.display()))?))
        }
    };
    let mut out = std::io::stdout().lock();
    let mut all_valid = true;
    for (k, line) in reader.split(b'\n').enumerate() {
        let mut line = line.context("reading the input")?;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let json = match Packet::decode(&line) {
            Ok(p) => serde_json::to_string(&p)?,
            Err(e) => {
                all_valid = false;
                serde_json::json!({"line": k + 1, "error": e.to_string()}).to_string()
            }
        };
        writeln!(out, "{json}")?;
    }
    Ok(all_valid)
}
