//! The office's reduction list on its page: upload (a file or pasted CSV), the preview of what
//! it would change with the plan's totals before and after, confirmation of a staged file, and
//! the versions with their restore.

use axum::Form;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Multipart, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;

use axum::http::StatusCode;

use crate::auth::{Authorized, Caller};
use crate::pages::{
    Lang, after_post, back, city_page, level_name, local_time, login_needed, page, page_error, protect_forms,
};
use crate::{ApiError, AppState, api, escape};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/office/list", post(office_list))
        .route("/office/list-file", post(office_list_file))
        .route("/office/list-confirm", post(office_list_confirm))
        .route("/office/list-restore", post(office_list_restore))
}

#[derive(Deserialize)]
struct CsvForm {
    csv: String,
}

/// A pasted CSV list; problems come back as a table and nothing is imported.
async fn office_list(
    State(s): State<AppState>,
    Query(l): Query<Lang>,
    caller: Result<Caller, ApiError>,
    Form(f): Form<CsvForm>,
) -> Response {
    import_list(&s, &l, caller, "pasted.csv", f.csv.into_bytes()).await
}

/// An uploaded CSV or XLSX file (multipart field `file`), validated like the CLI's import.
async fn office_list_file(
    State(s): State<AppState>,
    Query(l): Query<Lang>,
    caller: Result<Caller, ApiError>,
    mut form: Multipart,
) -> Response {
    let mut file = None;
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("upload.csv").to_owned();
            match field.bytes().await {
                Ok(bytes) => file = Some((name, bytes.to_vec())),
                Err(e) => return back("/office", &l, &page_error(&l, &ApiError::BadRequest(e.to_string()))),
            }
        }
    }
    match file {
        Some((name, bytes)) => import_list(&s, &l, caller, &name, bytes).await,
        None => back("/office", &l, l.m("pages.no-file-chosen")),
    }
}

/// List files previewed and awaiting the office's confirmation, by SHA-256, oldest first. A
/// restart forgets them: the office uploads the file again.
#[derive(Default)]
pub struct StagedLists(Vec<(String, String, Vec<u8>)>);

/// How many previews wait at once; the oldest goes first.
const MAX_STAGED: usize = 16;

impl StagedLists {
    fn stage(&mut self, sha: &str, name: &str, bytes: Vec<u8>) {
        self.0.retain(|(s, _, _)| s != sha);
        if self.0.len() >= MAX_STAGED {
            self.0.remove(0);
        }
        self.0.push((sha.to_owned(), name.to_owned(), bytes));
    }

    fn take(&mut self, sha: &str) -> Option<(String, Vec<u8>)> {
        let k = self.0.iter().position(|(s, _, _)| s == sha)?;
        let (_, name, bytes) = self.0.remove(k);
        Some((name, bytes))
    }
}

/// An uploaded or pasted list: checked, then shown as what it would change, with a button to
/// confirm the import. Nothing is imported yet.
async fn import_list(s: &AppState, l: &Lang, caller: Result<Caller, ApiError>, name: &str, bytes: Vec<u8>) -> Response {
    let r = async {
        let auth: Authorized<crate::auth::OfficeOnly> = Authorized::from_caller(caller?)?;
        let preview = s.city.preview_list(name, &bytes).await?;
        s.staged.lock().expect("staged lock").stage(&preview.sha256, name, bytes);
        Ok::<_, ApiError>((auth, preview))
    }
    .await;
    match r {
        Ok((auth, preview)) => {
            let body = protect_forms(&list_preview(l, &preview), &auth.caller.csrf);
            city_page(s, l, l.m("pages.confirm-the-reduction-list-import"), &body).into_response()
        }
        Err(ApiError::Invalid(m)) => {
            let m = crate::pages::refusal(l, &m);
            let rows: String = m.lines().skip(1).map(|x| format!("<tr><td>{}</td></tr>", escape(x.trim()))).collect();
            let body = format!(
                "<p>{}</p><table id=\"list-errors\">{rows}</table><p><a href=\"/office{}\">{}</a></p>",
                escape(m.lines().next().unwrap_or("")),
                l.q(),
                l.m("accounts.back")
            );
            (StatusCode::UNPROCESSABLE_ENTITY, page(l, l.m("pages.the-list-was-not-imported"), &body)).into_response()
        }
        Err(e) => login_needed(l, e),
    }
}

/// The preview: the enterprises added, removed and changed, the plan's totals at each level
/// before and after, and the confirmation (none for the file already in use).
fn list_preview(l: &Lang, p: &hazewarn_scheduler::lists::ListPreview) -> String {
    let d = &p.diff;
    let mut b = format!(
        "<p id=\"list-summary\">{} <b>{}</b>: {} {} · {} {} · {} {} · {} {} ({} v{})</p>",
        l.m("pages.file"),
        escape(&p.name),
        l.m("pages.added"),
        d.added.len(),
        l.m("pages.removed"),
        d.removed.len(),
        l.m("pages.changed"),
        d.changed.len(),
        l.m("pages.unchanged"),
        d.unchanged,
        l.m("pages.against-the-list-in-use"),
        p.current_version
    );
    let names = |title: &str, id: &str, rows: Vec<(String, String, String)>| {
        if rows.is_empty() {
            return String::new();
        }
        let body: String = rows
            .iter()
            .map(|(c, n, f)| format!("<tr><td>{}</td><td>{}</td><td>{}</td></tr>", escape(n), escape(c), escape(f)))
            .collect();
        format!("<h3>{title}</h3><table id=\"{id}\">{body}</table>")
    };
    let plain = |v: &Vec<hazewarn_response::ListedEnterprise>| {
        v.iter().map(|e| (e.credit_code.clone(), e.name.clone(), String::new())).collect()
    };
    b += &names(l.m("pages.added-2"), "list-added", plain(&d.added));
    b += &names(l.m("pages.removed-2"), "list-removed", plain(&d.removed));
    b += &names(
        l.m("pages.changed-2"),
        "list-changed",
        d.changed.iter().map(|e| (e.credit_code.clone(), e.name.clone(), e.fields.join(", "))).collect(),
    );
    b += &format!(
        "<h3>{}</h3><table id=\"list-totals\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        l.m("pages.reduction-shares-before-after"),
        l.m("pages.level"),
        l.m("compliance.pollutant"),
        l.m("pages.before"),
        l.m("pages.after"),
        l.m("compliance.target")
    );
    for t in &p.totals {
        for (before, after) in t.before.iter().zip(&t.after) {
            b += &format!(
                "<tr><td>{}</td><td>{}</td><td>{:.1}%</td><td>{:.1}%</td><td>{:.0}%</td></tr>",
                level_name(l, t.level),
                escape(&before.pollutant),
                before.ratio * 100.0,
                after.ratio * 100.0,
                after.target * 100.0
            );
        }
    }
    b += "</table>";
    match p.identical_to {
        Some(v) if v == p.current_version => {
            b += &format!(
                "<p id=\"list-identical\">{} v{v}{}</p>",
                l.m("pages.this-file-is-the-list"),
                l.m("pages.there-is-nothing-to-import")
            );
        }
        other => {
            if let Some(v) = other {
                b += &format!("<p id=\"list-identical\">{} v{v}</p>", l.m("pages.this-file-is-the-same"));
            }
            b += &format!(
                "<form method=\"post\" action=\"/office/list-confirm{}\" onsubmit=\"return confirm('{}')\"><input type=\"hidden\" name=\"sha256\" value=\"{}\"><input type=\"hidden\" name=\"against\" value=\"{}\"><button id=\"confirm-import\">{}</button></form>",
                l.q(),
                l.m("pages.import-it"),
                escape(&p.sha256),
                p.current_version,
                l.m("pages.import")
            );
        }
    }
    b + &format!("<p><a href=\"/office{}\">{}</a></p>", l.q(), l.m("pages.cancel"))
}

#[derive(Deserialize)]
struct ConfirmForm {
    sha256: String,
    /// The version the preview was against: another import since then makes it out of date.
    against: i64,
}

/// The office confirms a previewed list: it is imported as a new version.
async fn office_list_confirm(
    State(s): State<AppState>,
    Query(l): Query<Lang>,
    caller: Result<Caller, ApiError>,
    Form(f): Form<ConfirmForm>,
) -> Response {
    let r = async {
        let auth = Authorized::from_caller(caller?)?;
        let (current, _) = s.city.list().await?;
        if current != f.against {
            let why = format!(
                "the list changed to v{current} after this preview (against v{}); upload the file again",
                f.against
            );
            return Err(ApiError::Conflict(why));
        }
        let staged = s.staged.lock().expect("staged lock").take(&f.sha256);
        let (name, bytes) =
            staged.ok_or_else(|| ApiError::Conflict("that preview has expired; upload the file again".into()))?;
        let q = Query(api::UploadQuery { name, preview: false });
        api::upload_list(State(s.clone()), auth, q, Bytes::from(bytes)).await
    }
    .await;
    let imported = l.m("pages.list-imported");
    let version = |u: crate::api::Upload| match u {
        crate::api::Upload::Imported { version, .. } => version,
        crate::api::Upload::Preview(p) => p.current_version,
    };
    after_post("/office", &l, r.map(|axum::Json(v)| format!("{imported} v{}", version(v))))
}

#[derive(Deserialize)]
struct VersionForm {
    version: i64,
}

async fn office_list_restore(
    State(s): State<AppState>,
    Query(l): Query<Lang>,
    caller: Result<Caller, ApiError>,
    Form(f): Form<VersionForm>,
) -> Response {
    let r = async {
        let auth = Authorized::from_caller(caller?)?;
        api::restore_list(State(s.clone()), auth, axum::extract::Path(f.version)).await
    }
    .await;
    let restored = l.m("pages.list-restored");
    after_post("/office", &l, r.map(|axum::Json(v)| format!("{restored} v{} → v{}", f.version, v.version)))
}

/// The list's versions, newest first, each earlier one with a button to make it current again.
pub(crate) async fn list_versions_section(s: &AppState, l: &Lang) -> Result<String, ApiError> {
    let versions = s.city.store.list_versions().await?;
    let mut b = format!(
        "<h3>{}</h3><table id=\"list-versions\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr>",
        l.m("pages.list-versions"),
        l.m("pages.version"),
        l.m("pages.imported"),
        l.m("pages.source"),
        l.m("pages.enterprises")
    );
    for (k, v) in versions.iter().enumerate() {
        let action = if k == 0 {
            l.m("pages.in-use").to_owned()
        } else {
            format!(
                "<form method=\"post\" action=\"/office/list-restore{}\" onsubmit=\"return confirm('{}')\"><input type=\"hidden\" name=\"version\" value=\"{}\"><button>{}</button></form>",
                l.q(),
                l.m("pages.restore-this-version"),
                v.version,
                l.m("pages.restore")
            )
        };
        b += &format!(
            "<tr><td>v{}</td><td>{}</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
            v.version,
            escape(&local_time(&v.imported_at)),
            // The file's name, not where it lay on the server.
            escape(
                std::path::Path::new(&v.source)
                    .file_name()
                    .map_or(v.source.as_str(), |f| f.to_str().unwrap_or(&v.source))
            ),
            v.enterprises
        );
    }
    Ok(b + "</table>")
}
