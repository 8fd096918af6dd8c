//! The office's accounts section: enterprise accounts made from the active list (they sign in
//! with a one-time code), each with its contacts and a button to disable or enable it; a staff
//! account's new token, shown once on its own page.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::response::Response;
use axum::routing::post;
use hazewarn_store::users::Role;
use serde::Deserialize;

use crate::auth::Caller;
use crate::pages::{Lang, after_post, city_frame};
use crate::templates::{Frame, render_signed_in};
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new().route("/office/accounts-import", post(import)).route("/office/account", post(set_state))
}

/// The accounts section of the office page.
#[derive(Template)]
#[template(path = "accounts/section.html")]
struct AccountsSection<'a> {
    l: &'a Lang,
    accounts: Vec<AccountRow>,
}

/// An account as its row shows it, with the buttons that change it.
struct AccountRow {
    name: String,
    role: &'static str,
    mobile: String,
    email: String,
    state: &'static str,
    buttons: Vec<AccountButton>,
}

/// A button posting `action` (`disable`, `enable` or `rotate`) for the row's account.
struct AccountButton {
    action: &'static str,
    label: &'static str,
}

/// The accounts with their state and buttons; composed here, placed in the office page.
pub async fn section(s: &AppState, l: &Lang) -> Result<String, ApiError> {
    let accounts = s.city.store.accounts().await?;
    let accounts: Vec<AccountRow> = accounts
        .iter()
        .map(|a| {
            let button = |action: &'static str, key: &str| AccountButton { action, label: l.m(key) };
            let (state, toggle) = match &a.disabled_at {
                None => (l.m("accounts.active"), button("disable", "accounts.disable")),
                Some(_) => (l.m("accounts.disabled"), button("enable", "accounts.enable")),
            };
            let mut buttons = vec![toggle];
            // Enterprises sign in by code; only staff accounts have a token worth rotating.
            if a.role != Role::Enterprise {
                buttons.push(button("rotate", "accounts.new-token"));
            }
            AccountRow {
                name: a.name.clone(),
                role: role_name(l, a.role),
                mobile: a.mobile.clone().unwrap_or_else(|| "-".to_owned()),
                email: a.email.clone().unwrap_or_else(|| "-".to_owned()),
                state,
                buttons,
            }
        })
        .collect();
    crate::templates::fragment(&AccountsSection { l, accounts })
}

async fn import(State(s): State<AppState>, Query(l): Query<Lang>, caller: Result<Caller, ApiError>) -> Response {
    let r = async {
        let caller = caller?;
        let user = caller.require(&[Role::Office])?;
        let (created, updated) = s.city.import_accounts(&user.name).await?;
        Ok(format!("{created} {} {updated} {}", l.m("accounts.accounts-opened"), l.m("accounts.updated")))
    }
    .await;
    after_post("/office", &l, r)
}

#[derive(Deserialize)]
struct AccountForm {
    name: String,
    action: String,
}

async fn set_state(
    State(s): State<AppState>,
    Query(l): Query<Lang>,
    caller: Result<Caller, ApiError>,
    Form(f): Form<AccountForm>,
) -> Response {
    if f.action == "rotate" {
        return rotate(&s, &l, caller, &f.name).await;
    }
    let r = async {
        let caller = caller?;
        let user = caller.require(&[Role::Office])?;
        let disabled = match f.action.as_str() {
            "disable" => true,
            "enable" => false,
            other => return Err(ApiError::BadRequest(format!("`action`: `{other}` is not disable, enable or rotate"))),
        };
        if disabled && f.name == user.name {
            return Err(ApiError::Conflict("an account may not disable itself".into()));
        }
        s.city.store.set_disabled(&f.name, disabled, &user.name, s.city.now()).await?;
        Ok(format!("{} {}", f.name, if disabled { l.m("accounts.disabled") } else { l.m("accounts.enabled") }))
    }
    .await;
    after_post("/office", &l, r)
}

/// A new token for a staff account, shown once on the page that answers (never in a redirect's
/// address, which browsers and proxies keep).
async fn rotate(s: &AppState, l: &Lang, caller: Result<Caller, ApiError>, name: &str) -> Response {
    let csrf = caller.as_ref().map(|c| c.csrf.clone()).unwrap_or_default();
    let r = async {
        let caller = caller?;
        let user = caller.require(&[Role::Office])?;
        let token = hazewarn_scheduler::city::random_hex(32).map_err(|e| ApiError::Internal(e.to_string()))?;
        s.city.store.rotate_token(name, &token, &user.name, s.city.now()).await?;
        Ok(token)
    }
    .await;
    match r {
        Ok(token) => {
            let mut frame = city_frame(s, l, l.m("accounts.new-token"), false);
            frame.signed_in = true;
            render_signed_in(&NewTokenPage { frame, l, name, token: &token }, &csrf)
        }
        Err(e) => after_post("/office", l, Err(e)),
    }
}

/// The page that shows a staff account's new token, once.
#[derive(Template)]
#[template(path = "accounts/new_token.html")]
struct NewTokenPage<'a> {
    frame: Frame<'a>,
    l: &'a Lang,
    name: &'a str,
    token: &'a str,
}

/// A role in the page's language.
fn role_name(l: &Lang, role: Role) -> &'static str {
    match role {
        Role::Forecaster => l.m("accounts.role-forecaster"),
        Role::Office => l.m("accounts.role-office"),
        Role::Enterprise => l.m("accounts.role-enterprise"),
        Role::Admin => l.m("accounts.role-admin"),
        Role::Province => l.m("accounts.role-province"),
    }
}
