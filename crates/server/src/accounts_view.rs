//! The office's accounts section: enterprise accounts made from the active list (they sign in
//! with a one-time code), each with its contacts and a button to disable or enable it.

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use hazewarn_store::users::Role;
use serde::Deserialize;

use crate::auth::Caller;
use crate::pages::{Lang, after_post};
use crate::{ApiError, AppState, escape};

pub fn routes() -> Router<AppState> {
    Router::new().route("/office/accounts-import", post(import)).route("/office/account", post(set_state))
}

pub async fn section(s: &AppState, l: &Lang) -> Result<String, ApiError> {
    let accounts = s.city.store.accounts().await?;
    let mut b = format!(
        "<h2>{}</h2><form method=\"post\" action=\"/office/accounts-import{q}\"><button id=\"import-accounts\">{}</button></form>\
         <table id=\"accounts\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr>",
        l.m("accounts.accounts"),
        l.m("accounts.open-enterprise-accounts-from-the"),
        l.m("accounts.account"),
        l.m("accounts.role"),
        l.m("accounts.mobile"),
        l.m("accounts.e-mail"),
        l.m("accounts.state"),
        q = l.q(),
    );
    for a in &accounts {
        let (state, action, label) = match &a.disabled_at {
            None => (l.m("accounts.active"), "disable", l.m("accounts.disable")),
            Some(_) => (l.m("accounts.disabled"), "enable", l.m("accounts.enable")),
        };
        let button = |action: &str, label: &str| {
            format!(
                "<form method=\"post\" action=\"/office/account{q}\"><input type=\"hidden\" name=\"name\" value=\"{n}\">\
                 <input type=\"hidden\" name=\"action\" value=\"{action}\"><button>{label}</button></form>",
                q = l.q(),
                n = escape(&a.name),
            )
        };
        // Enterprises sign in by code; only staff accounts have a token worth rotating.
        let rotate =
            if a.role == Role::Enterprise { String::new() } else { button("rotate", l.m("accounts.new-token")) };
        b += &format!(
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{state}</td><td>{}{rotate}</td></tr>",
            escape(&a.name),
            role_name(l, a.role),
            escape(a.mobile.as_deref().unwrap_or("-")),
            escape(a.email.as_deref().unwrap_or("-")),
            button(action, label),
        );
    }
    Ok(b + "</table>")
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
        Ok(format!("{} {}", escape(&f.name), if disabled { l.m("accounts.disabled") } else { l.m("accounts.enabled") }))
    }
    .await;
    after_post("/office", &l, r)
}

/// A new token for a staff account, shown once on the page that answers (never in a redirect's
/// address, which browsers and proxies keep).
async fn rotate(s: &AppState, l: &Lang, caller: Result<Caller, ApiError>, name: &str) -> Response {
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
            let body = format!(
                "<p class=\"msg\">{} {}</p><p><code id=\"new-token\">{}</code></p><p><a href=\"/office{}\">{}</a></p>",
                escape(name),
                l.m("accounts.has-a-new-token-shown"),
                escape(&token),
                l.q(),
                l.m("accounts.back"),
            );
            crate::pages::page(l, l.m("accounts.new-token"), &body).into_response()
        }
        Err(e) => after_post("/office", l, Err(e)),
    }
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
