//! Signing in and out. The office and forecasters sign in with their bearer token; an
//! enterprise's duty officer asks for a one-time code, sent to the mobile (SMS) or e-mail the
//! reduction list gives for the enterprise, and types it in. Either way the browser gets a
//! session id in its cookie, never a token. Codes are six digits, valid for five minutes, stored
//! hashed, at most one a minute per account and a few per client address, and five wrong ones
//! lock the account's codes for a quarter of an hour.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use hazewarn_scheduler::{Channel, Recipient, SendResult};
use hazewarn_store::OutboxEntry;
use hazewarn_store::sessions::{CodeCheck, CodeRefusal};
use hazewarn_store::users::Role;
use serde::Deserialize;

use crate::auth::{ClientAddr, Gate, SESSION_COOKIE, cookie_token, random_text, start_session};
use crate::pages::{Lang, city_nav_frame, login_needed};
use crate::templates::{Frame, render};
use crate::{ApiError, AppState};

/// How long a sign-in code is good for.
pub const CODE_MINUTES: i64 = 5;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login::<AppState>))
        // A refusal (too many codes asked for, a locked address) is a page in its language.
        .route(
            "/login/code",
            post(|s, Query(l): Query<Lang>, c, f| async move {
                let lang = Lang { lang: l.lang.clone(), ..Lang::default() };
                send_code(s, Query(l), c, f).await.unwrap_or_else(|e| login_needed(&lang, e))
            }),
        )
        .route(
            "/login/verify",
            post(|s, Query(l): Query<Lang>, c, h, f| async move {
                let lang = Lang { lang: l.lang.clone(), ..Lang::default() };
                verify_code(s, Query(l), c, h, f).await.unwrap_or_else(|e| login_needed(&lang, e))
            }),
        )
        .route("/logout", post(logout::<AppState>))
}

/// The sign-in page: an enterprise asks for a code, staff type their token.
#[derive(Template)]
#[template(path = "signin/login.html")]
struct LoginPage<'a> {
    frame: Frame<'a>,
    l: &'a Lang,
    /// Why the token typed was refused, above the forms to try again.
    refused: Option<&'a str>,
}

/// The page that answers a step of signing in: what happened and, while a code is awaited,
/// the form to type it in.
#[derive(Template)]
#[template(path = "signin/answer.html")]
struct AnswerPage<'a> {
    frame: Frame<'a>,
    l: &'a Lang,
    note: Option<Note<'a>>,
    /// The account whose code the form asks for.
    account: Option<&'a str>,
}

/// A message of the answer, with the id tests and scripts find it by (`sent`, `refused`).
struct Note<'a> {
    id: Option<&'static str>,
    text: &'a str,
}

fn answer(l: &Lang, title: &str, note: Option<Note<'_>>, account: Option<&str>) -> Response {
    render(&AnswerPage { frame: city_nav_frame(l, title, false), l, note, account })
}

async fn login_form(Query(l): Query<Lang>) -> Response {
    render(&LoginPage { frame: city_nav_frame(&l, l.m("signin.sign-in"), false), l: &l, refused: None })
}

#[derive(Deserialize)]
pub(crate) struct TokenForm {
    token: String,
}

fn landing(role: Role) -> &'static str {
    match role {
        Role::Forecaster => "/forecaster",
        Role::Enterprise => "/enterprise",
        // The province's own server: its one page.
        Role::Province => "/",
        _ => "/office",
    }
}

fn signed_in(cookie: String, to: &str, l: &Lang) -> Response {
    ([(header::SET_COOKIE, cookie)], Redirect::to(&format!("{to}{}", l.q()))).into_response()
}

pub(crate) async fn login<S: Gate>(
    State(s): State<S>,
    Query(l): Query<Lang>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Form(f): Form<TokenForm>,
) -> Response {
    if let Err(e) = s.limiter().check(&format!("addr:{client}")).and_then(|()| s.failures().refuse_if_spent(&client)) {
        return e.into_response();
    }
    let Ok(Some(user)) = s.store().user_by_token(f.token.trim()).await else {
        if let Err(e) = s.failures().check(&client) {
            return e.into_response();
        }
        let page = LoginPage {
            frame: city_nav_frame(&l, l.m("signin.sign-in"), false),
            l: &l,
            refused: Some(l.m("signin.invalid-token")),
        };
        return (StatusCode::UNAUTHORIZED, render(&page)).into_response();
    };
    match start_session(&s, &user.name, &headers).await {
        Ok(cookie) => signed_in(cookie, landing(user.role), &l),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct AccountForm {
    account: String,
}

/// Six digits from the operating system's random source, uniform (values that would bias the
/// remainder are drawn again).
fn six_digits() -> Result<String, ApiError> {
    loop {
        let text = random_text(4)?;
        let bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, text)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let v = u32::from_be_bytes(bytes[..4].try_into().expect("4 bytes"));
        if v < u32::MAX - u32::MAX % 1_000_000 {
            return Ok(format!("{:06}", v % 1_000_000));
        }
    }
}

/// `139****0001`, `d***@example.com`: enough for the person to recognise, not to harvest.
fn masked(to: &str) -> String {
    match to.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => match (to.get(..3), to.get(7..)) {
            (Some(head), Some(tail)) if to.len() == 11 && to.is_ascii() => format!("{head}****{tail}"),
            _ => "***".into(),
        },
    }
}

/// The first channel of the city's route that can carry a code to these contacts, and where to.
fn code_channel(s: &AppState, to: &Recipient) -> Option<(std::sync::Arc<dyn Channel>, String)> {
    s.city.route().into_iter().filter(|c| c.accepts("code")).find_map(|c| c.target("code", to).map(|t| (c.clone(), t)))
}

async fn send_code(
    State(s): State<AppState>,
    Query(l): Query<Lang>,
    ClientAddr(client): ClientAddr,
    Form(f): Form<AccountForm>,
) -> Result<Response, ApiError> {
    s.codes.check(&format!("addr:{client}"))?;
    let account = f.account.trim().to_ascii_uppercase();
    let contacts = s.city.store.account_contacts(&account).await?;
    let to = contacts.map(|(mobile, email)| Recipient {
        mobiles: mobile.into_iter().collect(),
        emails: email.into_iter().collect(),
        ..Recipient::default()
    });
    // The same answer whether or not the account exists or can be reached.
    let sent = l.m("signin.if-the-enterprise-has-an");
    let Some((channel, target)) = to.as_ref().and_then(|to| code_channel(&s, to)) else {
        let note = Note { id: None, text: sent };
        return Ok(answer(&l, l.m("signin.sign-in-code"), Some(note), Some(account.as_str())).into_response());
    };
    let code = six_digits()?;
    let now = s.city.now();
    match s
        .city
        .store
        .issue_code(&account, &code, &masked(&target), now, now + chrono::Duration::minutes(CODE_MINUTES))
        .await?
    {
        Err(CodeRefusal::TooSoon(wait)) => return Err(ApiError::TooMany { retry_after_s: wait.max(1) as u64 }),
        Err(CodeRefusal::Locked(s)) => return Err(ApiError::TooMany { retry_after_s: s.max(1) as u64 }),
        Ok(()) => {}
    }
    let key = format!("code-{account}-{}", now.timestamp());
    let payload = serde_json::json!({"code": code, "minutes": CODE_MINUTES}).to_string();
    let message = OutboxEntry::unqueued("code", channel.name(), &target, &key, payload);
    // Sent at once, not through the outbox: a code is worth nothing after five minutes, and the
    // outbox would keep it in clear.
    if let result @ (SendResult::Transient { .. } | SendResult::Permanent(_)) = channel.send(&message).await {
        tracing::error!(account, channel = channel.name(), ?result, "a sign-in code was not sent");
        let why = l.m("signin.the-code-could-not-be");
        let note = Note { id: None, text: why };
        return Ok((StatusCode::BAD_GATEWAY, answer(&l, l.m("signin.sign-in-code"), Some(note), None)).into_response());
    }
    let note = Note { id: Some("sent"), text: sent };
    Ok(answer(&l, l.m("signin.sign-in-code"), Some(note), Some(account.as_str())).into_response())
}

#[derive(Deserialize)]
struct CodeForm {
    account: String,
    code: String,
}

async fn verify_code(
    State(s): State<AppState>,
    Query(l): Query<Lang>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Form(f): Form<CodeForm>,
) -> Result<Response, ApiError> {
    s.failures.refuse_if_spent(&client)?;
    let account = f.account.trim().to_ascii_uppercase();
    let title = l.m("signin.sign-in-code");
    let again = |status: StatusCode, msg: &str| {
        let note = Note { id: Some("refused"), text: msg };
        (status, answer(&l, title, Some(note), Some(account.as_str()))).into_response()
    };
    match s.city.store.check_code(&account, f.code.trim(), s.city.now()).await? {
        CodeCheck::Accepted => Ok(signed_in(start_session(&s, &account, &headers).await?, "/enterprise", &l)),
        CodeCheck::Wrong(left) => {
            s.failures.check(&client)?;
            let msg = format!("{}{left}", l.m("signin.wrong-code-tries-left"));
            Ok(again(StatusCode::UNAUTHORIZED, &msg))
        }
        CodeCheck::Locked(s) => {
            let minutes = (s + 59) / 60;
            let msg = format!("{}{minutes}{}", l.m("signin.too-many-wrong-codes-locked"), l.m("signin.minutes"));
            Ok(again(StatusCode::TOO_MANY_REQUESTS, &msg))
        }
        CodeCheck::NoCode => {
            s.failures.check(&client)?;
            Ok(again(StatusCode::UNAUTHORIZED, l.m("signin.no-valid-code-ask-for")))
        }
    }
}

pub(crate) async fn logout<S: Gate>(
    State(s): State<S>,
    Query(l): Query<Lang>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(id) = cookie_token(&headers) {
        s.store().end_session(&id, s.now()).await?;
    }
    let clear = format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
    Ok(([(header::SET_COOKIE, clear)], Redirect::to(&format!("/login{}", l.q()))).into_response())
}
