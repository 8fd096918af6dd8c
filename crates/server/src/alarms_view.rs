//! The compliance alarms on the pages: the office's table of every alarm, each with the form of
//! its next step (the phone record, the site check, the closing), and an enterprise's own alarms
//! with the form it answers them by while the case waits on it.

use askama::Template;
use chrono::{DateTime, Utc};
use hazewarn_store::compliance::{Alarm, AlarmState};
use hazewarn_store::users::Role;

use crate::auth::Caller;
use crate::compliance_view::evidence_words;
use crate::pages::Lang;
use crate::{ApiError, AppState};

#[derive(Template)]
#[template(path = "compliance/office_alarms.html")]
struct OfficeAlarms<'a> {
    l: &'a Lang,
    rows: Vec<AlarmRow>,
}

/// An alarm as the office works it.
struct AlarmRow {
    id: String,
    enterprise: String,
    line: String,
    evidence: String,
    state: &'static str,
    age: String,
    /// The enterprise's answer, then the site check, those there are.
    answers: Vec<String>,
    /// The office's next step: `phone`, `verify`, `close`, or `closed` (none left).
    next: &'static str,
    /// A closed alarm's outcome in the page's language.
    outcome: &'static str,
}

#[derive(Template)]
#[template(path = "compliance/enterprise_alarms.html")]
struct EnterpriseAlarms<'a> {
    l: &'a Lang,
    rows: Vec<OwnAlarmRow>,
}

/// An enterprise's own alarm.
struct OwnAlarmRow {
    id: String,
    line: String,
    evidence: String,
    state: &'static str,
    /// While the case waits on the enterprise, it answers (again) in a form.
    may_answer: bool,
    /// Its answer so far: the form's text, or shown as it stands.
    explanation: String,
}

fn age(l: &Lang, opened: &str, now: DateTime<Utc>) -> String {
    let Ok(t) = hazewarn_store::parse_ts(opened) else { return "-".into() };
    let h = (now - t).num_hours().max(0);
    if h < 48 { format!("{h} {}", l.m("compliance.h")) } else { format!("{} {}", h / 24, l.m("compliance.d")) }
}

fn alarm_state(l: &Lang, state: AlarmState) -> &'static str {
    match state {
        AlarmState::Open => l.m("compliance.state-open"),
        AlarmState::Notified => l.m("compliance.state-notified"),
        AlarmState::Explained => l.m("compliance.state-explained"),
        AlarmState::Verified => l.m("compliance.state-verified"),
        AlarmState::Closed => l.m("compliance.state-closed"),
    }
}

/// The office's alarm table: open cases first, oldest first.
pub(crate) fn office_alarms(s: &AppState, l: &Lang, alarms: &[Alarm]) -> Result<String, ApiError> {
    let now = s.city.now();
    // The ones waiting longest are at the top.
    let mut order: Vec<&Alarm> = alarms.iter().collect();
    order.sort_by_key(|a| (a.state == AlarmState::Closed, a.opened_at.clone()));
    let rows: Vec<AlarmRow> = order
        .into_iter()
        .map(|a| AlarmRow {
            id: a.id.clone(),
            enterprise: a.enterprise.clone(),
            line: a.line.clone(),
            evidence: evidence_words(l, &a.evidence),
            state: alarm_state(l, a.state),
            age: if a.state == AlarmState::Closed { "-".into() } else { age(l, &a.opened_at, now) },
            answers: [&a.explanation, &a.site_check].into_iter().flatten().cloned().collect(),
            next: match a.state {
                AlarmState::Open => "phone",
                AlarmState::Notified | AlarmState::Explained => "verify",
                AlarmState::Verified => "close",
                AlarmState::Closed => "closed",
            },
            outcome: match a.outcome.as_deref() {
                Some("violation") => l.m("compliance.violation"),
                Some("complied") => l.m("compliance.complied"),
                _ => "-",
            },
        })
        .collect();
    crate::templates::fragment(&OfficeAlarms { l, rows })
}

/// The enterprise's own alarms, each with the form it answers by while the case waits on it.
pub async fn enterprise_section(s: &AppState, l: &Lang, caller: &Caller) -> Result<String, ApiError> {
    let Some(code) = caller.user.credit_code.as_deref() else { return Ok(String::new()) };
    let mine = s.city.store.alarms(Some(code)).await?;
    if mine.is_empty() {
        return Ok(String::new());
    }
    let rows: Vec<OwnAlarmRow> = mine
        .iter()
        .map(|a| {
            let may_answer = caller.user.role == Role::Enterprise
                && matches!(a.state, AlarmState::Open | AlarmState::Notified | AlarmState::Explained);
            OwnAlarmRow {
                id: a.id.clone(),
                line: a.line.clone(),
                evidence: evidence_words(l, &a.evidence),
                state: alarm_state(l, a.state),
                may_answer,
                explanation: a.explanation.clone().unwrap_or_else(|| if may_answer { "" } else { "-" }.to_owned()),
            }
        })
        .collect();
    crate::templates::fragment(&EnterpriseAlarms { l, rows })
}
