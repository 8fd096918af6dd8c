//! The enterprise's page (`/enterprise`), read first on a duty officer's phone: the latest
//! curtailment notice as a card (who it is for, who issued it on what basis, the measures per
//! line, the window, the deadline, and the button that acknowledges it), the notices before it,
//! and the enterprise's compliance alarms. Also the notice as issued, to print
//! (`/enterprise/notice/{id}`), and the acknowledgement's post (`/enterprise/ack`).
//! Templates under `templates/enterprise/`.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use hazewarn_store::response::StoredNotice;
use hazewarn_store::users::Role;

use crate::auth::Caller;
use crate::pages::{IdForm, Lang, after_post, city_frame, late_acknowledgement, level_name, local_time, login_needed};
use crate::templates::{Frame, render_signed_in};
use crate::{ApiError, AppState, api};

#[derive(Template)]
#[template(path = "enterprise/page.html")]
struct EnterprisePage<'a> {
    frame: Frame<'a>,
    l: &'a Lang,
    /// The latest notice; none yet says so.
    latest: Option<NoticeCard<'a>>,
    history: Vec<HistoryRow<'a>>,
    /// `compliance_view`'s section of the enterprise's alarms.
    alarms: String,
}

/// A notice of the enterprise's history.
struct HistoryRow<'a> {
    id: &'a str,
    issued: String,
    level: String,
    /// When and how it was acknowledged, or `-`.
    acked: String,
}

/// A notice as its card shows it.
#[derive(Template)]
#[template(path = "enterprise/notice_card.html")]
pub(crate) struct NoticeCard<'a> {
    l: &'a Lang,
    id: &'a str,
    enterprise: &'a str,
    credit_code: &'a str,
    level: String,
    effective_from: String,
    effective_until: String,
    ack_deadline: String,
    issuer: &'a str,
    basis: &'a str,
    lines: Vec<MeasureLine<'a>>,
    /// The transport measure is the notice's own text (Chinese, as issued).
    transport_zh: &'a str,
    /// The duty phone, when the notice gives one.
    contact: &'a str,
    acked: Option<String>,
    /// Only the enterprise acknowledges: the office looking at its page gets no button.
    may_ack: bool,
}

/// A production line and what it is to do, in the page's language.
struct MeasureLine<'a> {
    line: &'a str,
    measure: &'a str,
}

impl<'a> NoticeCard<'a> {
    pub(crate) fn new(l: &'a Lang, n: &'a StoredNotice, may_ack: bool) -> NoticeCard<'a> {
        let x = &n.notice;
        let time = |t: &chrono::DateTime<chrono::FixedOffset>| t.format("%Y-%m-%d %H:%M").to_string();
        NoticeCard {
            l,
            id: &x.id,
            enterprise: &x.enterprise,
            credit_code: &x.credit_code,
            level: level_name(l, x.level),
            effective_from: time(&x.effective_from),
            effective_until: time(&x.effective_until),
            ack_deadline: time(&x.ack_deadline),
            issuer: &x.issuer,
            basis: &x.basis,
            lines: x
                .lines
                .iter()
                .map(|line| MeasureLine {
                    line: &line.line,
                    measure: if l.en() { line.en.as_str() } else { line.zh.as_str() },
                })
                .collect(),
            transport_zh: &x.transport_zh,
            contact: &x.contact,
            acked: acknowledgement(l, n),
            may_ack,
        }
    }
}

/// The latest notice's card: who it is for, who issued it and on what basis, the measures per
/// line, the window and the acknowledgement deadline, and the button or the acknowledgement.
pub(crate) fn notice_card(l: &Lang, n: &StoredNotice, may_ack: bool) -> Result<String, ApiError> {
    crate::templates::fragment(&NoticeCard::new(l, n, may_ack))
}

/// When and how a notice was acknowledged (by phone, by a link from a text), marked late after
/// its deadline.
fn acknowledgement(l: &Lang, n: &StoredNotice) -> Option<String> {
    let at = n.acknowledged_at.as_deref()?;
    let mut s = local_time(at);
    if n.acknowledged_via.as_deref() == Some("phone") {
        s += l.m("pages.by-phone-recorded-by-the");
    }
    if let Some(channel) = n.acknowledged_via.as_deref().and_then(|v| v.strip_prefix("link:")) {
        s += &format!("{}{channel}{}", l.m("pages.from-the-link-in-the"), l.m("pages.text"));
    }
    if late_acknowledgement(n) {
        s += l.m("pages.late");
    }
    Some(s)
}

pub(crate) async fn enterprise(
    State(s): State<AppState>,
    Query(l): Query<Lang>,
    caller: Result<Caller, ApiError>,
) -> Response {
    let result: Result<Response, ApiError> = async {
        let caller = caller?;
        let csrf = caller.csrf.clone();
        // Only the enterprise acknowledges; the office looking at this page is not offered the button.
        let may_ack = caller.user.role == Role::Enterprise;
        let caller_for_alarms = caller.clone();
        let axum::Json(mine) = api::notices(State(s.clone()), caller).await?;
        let alarms = crate::alarms_view::enterprise_section(&s, &l, &caller_for_alarms).await?;
        let history = mine
            .iter()
            .map(|n| HistoryRow {
                id: &n.notice.id,
                issued: n.notice.issued_at.format("%Y-%m-%d %H:%M").to_string(),
                level: level_name(&l, n.notice.level),
                acked: acknowledgement(&l, n).unwrap_or_else(|| "-".into()),
            })
            .collect();
        let mut page = EnterprisePage {
            frame: city_frame(&s, &l, l.m("pages.enterprise-curtailment-notices"), false),
            l: &l,
            latest: mine.first().map(|n| NoticeCard::new(&l, n, may_ack)),
            history,
            alarms,
        };
        page.frame.signed_in = true;
        Ok(render_signed_in(&page, &csrf))
    }
    .await;
    result.map_or_else(|e| login_needed(&l, e), IntoResponse::into_response)
}

/// A notice as issued, to print: the enterprise's own (another's is not found), or any for the office.
pub(crate) async fn printable_notice(
    State(s): State<AppState>,
    Query(l): Query<Lang>,
    caller: Result<Caller, ApiError>,
    Path(id): Path<String>,
) -> Response {
    let notice = async { Ok::<_, ApiError>(api::notice(State(s), caller?, Path(id)).await?.0) }.await;
    notice.map_or_else(|e| login_needed(&l, e), |n| Html(n.notice.to_html()).into_response())
}

/// The card's button: the enterprise acknowledges the notice.
pub(crate) async fn enterprise_ack(
    State(s): State<AppState>,
    Query(l): Query<Lang>,
    caller: Result<Caller, ApiError>,
    Form(f): Form<IdForm>,
) -> Response {
    let r = async { api::acknowledge(State(s.clone()), caller?, Path(f.id.clone())).await }.await;
    after_post("/enterprise", &l, r.map(|_| l.m("pages.acknowledged-3").to_owned()))
}
