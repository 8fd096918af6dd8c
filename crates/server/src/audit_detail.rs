//! The audit entry's detail as a table cell people read: a JSON object's fields by name, in the
//! page's language (levels and step kinds by name, times in Beijing time), with the detail as
//! recorded in the cell's title. The cell is composed here, escaped with [`crate::escape`], and
//! placed in the audit page as it is, since its shape follows the detail's: fields one level
//! deep by name, deeper objects and lists of objects by their count.

use hazewarn_response::{TransitionKind, WarningLevel};
use serde_json::Value;

use crate::escape;
use crate::history_view::kind_name;
use crate::pages::{Lang, level_name};

/// The keys of the audit details (JSON objects) that people read by name, in the order a cell
/// shows them; any other key shows as written, after these. They are the fields of a warning's
/// step, an advisory's step and its terms, a city's answer, a recommendation and a received
/// advisory; the last ones are those of list items (a recommendation's reasons, a forecast's
/// inputs), which a cell counts rather than shows.
const DETAIL_FIELDS: &[(&str, &str)] = &[
    ("level", "audit.field-level"),
    ("kind", "audit.field-kind"),
    ("action", "audit.field-action"),
    ("answer", "audit.field-answer"),
    ("reason", "audit.field-reason"),
    ("reasons", "audit.field-reasons"),
    ("start", "audit.field-start"),
    ("end", "audit.field-end"),
    ("deadline", "audit.field-deadline"),
    ("cities", "audit.field-cities"),
    ("terms", "audit.field-terms"),
    ("response_level", "audit.field-response-level"),
    ("health_advisory", "audit.field-health-advisory"),
    ("temporary_control", "audit.field-temporary-control"),
    ("warning", "audit.field-warning"),
    ("advisory", "audit.field-advisory"),
    ("province", "audit.field-province"),
    ("step", "audit.field-step"),
    ("forecast_id", "audit.field-forecast-id"),
    ("profile", "audit.field-profile"),
    ("at", "audit.field-at"),
    ("by", "audit.field-by"),
    ("rule", "audit.field-rule"),
    ("days", "audit.field-days"),
    ("zh", "audit.field-zh"),
    ("en", "audit.field-en"),
    ("name", "audit.field-name"),
    ("ok", "audit.field-ok"),
    ("detail", "audit.field-detail"),
    ("detail_zh", "audit.field-detail-zh"),
];

/// The detail keys whose strings are people's words, shown as text; other strings (ids, names,
/// codes) are shown as code.
const TEXT_FIELDS: &[&str] = &["reason", "zh", "en", "detail", "detail_zh"];

/// Characters of a value a cell shows; the whole value is then its title.
const LONG_VALUE: usize = 80;

/// A detail key by name, or as written.
fn field_name(l: &Lang, key: &str) -> String {
    DETAIL_FIELDS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or_else(|| format!("<code>{}</code>", escape(key)), |(_, m)| l.m(m).to_owned())
}

/// An object's fields in the order of [`DETAIL_FIELDS`], unknown keys last as they came.
fn ordered(fields: &serde_json::Map<String, Value>) -> Vec<(&str, &Value)> {
    let rank = |k: &str| DETAIL_FIELDS.iter().position(|(f, _)| *f == k).unwrap_or(DETAIL_FIELDS.len());
    let mut v: Vec<(&str, &Value)> = fields.iter().map(|(k, v)| (k.as_str(), v)).collect();
    v.sort_by_key(|&(k, _)| rank(k));
    v
}

/// The audit entry's detail as its table cell: a JSON object as its fields by name, with the
/// values in the page's language; anything else as written, cut. The cell's title holds the
/// detail as recorded, so an auditor misses nothing.
pub(crate) fn detail_cell(l: &Lang, raw: &str) -> String {
    let fields = match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(fields)) if !fields.is_empty() => fields,
        _ => {
            let detail: String = raw.chars().take(160).collect();
            let more = if detail.len() < raw.len() { "…" } else { "" };
            return format!("<td class=\"text\"><code title=\"{}\">{}{more}</code></td>", escape(raw), escape(&detail));
        }
    };
    let shown: Vec<String> = ordered(&fields)
        .into_iter()
        .map(|(k, v)| {
            format!("<span>{}{}{}</span>", field_name(l, k), l.m("pages.colon"), detail_value(l, k, v, false))
        })
        .collect();
    format!("<td class=\"text\" title=\"{}\">{}</td>", escape(raw), shown.join(" · "))
}

/// One field's value: a scalar or a list of scalars as text, an object (at the top) as its own
/// fields key=value, and a deeper object or a list of objects by its number of items.
fn detail_value(l: &Lang, key: &str, v: &Value, nested: bool) -> String {
    match v {
        Value::Object(m) if !nested && !m.is_empty() => {
            let parts: Vec<String> = ordered(m)
                .into_iter()
                .map(|(k, v)| format!("{}={}", field_name(l, k), detail_value(l, k, v, true)))
                .collect();
            parts.join(if l.en() { "; " } else { "；" })
        }
        Value::Object(m) => items(l, m.len()),
        Value::Array(a) if a.iter().any(|x| x.is_object() || x.is_array()) => items(l, a.len()),
        _ => {
            let (text, code) = scalar_text(l, key, v);
            cut(&text, code)
        }
    }
}

/// "3 项", "3 items".
fn items(l: &Lang, n: usize) -> String {
    format!("{n} {}", l.m(if n == 1 { "audit.item" } else { "audit.items" }))
}

/// A scalar, or a list of them joined, as text; and whether it is an id, shown as code.
fn scalar_text(l: &Lang, key: &str, v: &Value) -> (String, bool) {
    match v {
        Value::Null => ("-".to_owned(), false),
        Value::Bool(b) => (l.m(if *b { "audit.yes" } else { "audit.no" }).to_owned(), false),
        Value::Number(n) => (n.to_string(), false),
        Value::String(s) => string_text(l, key, s),
        Value::Array(a) if a.is_empty() => ("-".to_owned(), false),
        Value::Array(a) => {
            let each: Vec<(String, bool)> = a.iter().map(|x| scalar_text(l, key, x)).collect();
            let code = each.iter().any(|(_, c)| *c);
            let texts: Vec<String> = each.into_iter().map(|(t, _)| t).collect();
            (texts.join(if l.en() { ", " } else { "、" }), code)
        }
        Value::Object(_) => (v.to_string(), true),
    }
}

/// A string: a warning level by its name, a time in Beijing time, a step's kind by name,
/// people's words as text, and anything else as an id.
fn string_text(l: &Lang, key: &str, s: &str) -> (String, bool) {
    if (matches!(s, "yellow" | "orange" | "red") || (key == "level" && s == "none"))
        && let Ok(level) = s.parse::<WarningLevel>()
    {
        return (level_name(l, level), false);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return (crate::pages::beijing_time(t), false);
    }
    if matches!(key, "kind" | "action")
        && let Ok(kind) = serde_json::from_value::<TransitionKind>(Value::String(s.to_owned()))
    {
        return (kind_name(l, kind).to_owned(), false);
    }
    (s.to_owned(), !TEXT_FIELDS.contains(&key))
}

/// Escaped text, cut to [`LONG_VALUE`] characters with the whole of it as the title; an id as code.
fn cut(text: &str, code: bool) -> String {
    let short: String = text.chars().take(LONG_VALUE).collect();
    let (body, title) = if short.len() < text.len() {
        (format!("{}…", escape(&short)), format!(" title=\"{}\"", escape(text)))
    } else {
        (escape(text), String::new())
    };
    match (code, title.is_empty()) {
        (true, _) => format!("<code{title}>{body}</code>"),
        (false, true) => body,
        (false, false) => format!("<span{title}>{body}</span>"),
    }
}
