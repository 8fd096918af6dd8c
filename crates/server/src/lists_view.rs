//! The office's reduction list on its page: upload (a file or pasted CSV), the preview of what
//! it would change with the plan's totals before and after, confirmation of a staged file, and
//! the versions with their restore.

use askama::Template;
use axum::Form;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Multipart, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;

use axum::http::StatusCode;

use crate::auth::{Authorized, Caller};
use crate::pages::{Lang, after_post, back, city_frame, level_name, local_time, login_needed, page_error};
use crate::templates::{Frame, render_signed_in};
use crate::{ApiError, AppState, api};

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
    let csrf = caller.as_ref().map(|c| c.csrf.clone()).unwrap_or_default();
    let r = async {
        let auth: Authorized<crate::auth::OfficeOnly> = Authorized::from_caller(caller?)?;
        let preview = s.city.preview_list(name, &bytes).await?;
        s.staged.lock().expect("staged lock").stage(&preview.sha256, name, bytes);
        Ok::<_, ApiError>((auth, preview))
    }
    .await;
    match r {
        Ok((_, preview)) => {
            let mut frame = city_frame(s, l, l.m("pages.confirm-the-reduction-list-import"), false);
            frame.signed_in = true;
            render_signed_in(&ListPreviewPage { frame, l, preview: preview_view(l, &preview) }, &csrf)
        }
        Err(ApiError::Invalid(m)) => {
            let m = crate::pages::refusal(l, &m);
            let mut frame = city_frame(s, l, l.m("pages.the-list-was-not-imported"), false);
            frame.signed_in = true;
            let page = ListErrorsPage {
                frame,
                l,
                summary: m.lines().next().unwrap_or("").to_owned(),
                errors: m.lines().skip(1).map(|x| x.trim().to_owned()).collect(),
            };
            (StatusCode::UNPROCESSABLE_ENTITY, render_signed_in(&page, &csrf)).into_response()
        }
        Err(e) => login_needed(l, e),
    }
}

/// A refused list: the check's summary and one row per problem. Nothing was imported.
#[derive(Template)]
#[template(path = "lists/errors.html")]
struct ListErrorsPage<'a> {
    frame: Frame<'a>,
    l: &'a Lang,
    summary: String,
    errors: Vec<String>,
}

/// The preview of an uploaded list, with the button that confirms its import.
#[derive(Template)]
#[template(path = "lists/preview.html")]
struct ListPreviewPage<'a> {
    frame: Frame<'a>,
    l: &'a Lang,
    preview: PreviewView,
}

/// What a list would change, display-ready.
struct PreviewView {
    name: String,
    added: usize,
    removed: usize,
    changed: usize,
    unchanged: usize,
    current_version: i64,
    /// The enterprises added, removed and changed; only the groups that have some.
    groups: Vec<EnterpriseGroup>,
    totals: Vec<ShareRow>,
    /// The file is the list in use: there is nothing to confirm.
    in_use: bool,
    /// The earlier version the file is the same as, when it is not the one in use.
    same_as: Option<i64>,
    sha256: String,
}

/// Enterprises the list adds, removes or changes, under their heading.
struct EnterpriseGroup {
    title: &'static str,
    id: &'static str,
    rows: Vec<EnterpriseChange>,
}

struct EnterpriseChange {
    name: String,
    credit_code: String,
    /// The fields that changed, for a changed enterprise.
    fields: String,
}

/// A pollutant's reduction share at a level, before and after the list.
struct ShareRow {
    level: String,
    pollutant: String,
    before: String,
    after: String,
    target: String,
}

/// A field of an enterprise that an import changes, as the page's language names it: a column
/// by its header (the list's Chinese header on a Chinese page), its production lines as such.
fn changed_field<'a>(l: &Lang, field: &'a str) -> &'a str {
    if field == "lines" {
        return l.m("lists.production-lines");
    }
    match hazewarn_response::COLUMNS.iter().find(|(en, _, _)| *en == field) {
        Some((_, zh, _)) if !l.en() => zh,
        _ => field,
    }
}

/// The preview as the page shows it: the enterprises added, removed and changed, the plan's
/// totals at each level before and after, and whether there is anything to confirm.
fn preview_view(l: &Lang, p: &hazewarn_scheduler::lists::ListPreview) -> PreviewView {
    let d = &p.diff;
    let change = |name: &str, credit_code: &str, fields: String| EnterpriseChange {
        name: name.to_owned(),
        credit_code: credit_code.to_owned(),
        fields,
    };
    let plain = |v: &[hazewarn_response::ListedEnterprise]| -> Vec<EnterpriseChange> {
        v.iter().map(|e| change(&e.name, &e.credit_code, String::new())).collect()
    };
    let changed: Vec<EnterpriseChange> = d
        .changed
        .iter()
        .map(|e| {
            let fields: Vec<&str> = e.fields.iter().map(|f| changed_field(l, f)).collect();
            change(&e.name, &e.credit_code, fields.join(l.m("pages.list-enumeration")))
        })
        .collect();
    let groups: Vec<EnterpriseGroup> = [
        EnterpriseGroup { title: l.m("pages.added-2"), id: "list-added", rows: plain(&d.added) },
        EnterpriseGroup { title: l.m("pages.removed-2"), id: "list-removed", rows: plain(&d.removed) },
        EnterpriseGroup { title: l.m("pages.changed-2"), id: "list-changed", rows: changed },
    ]
    .into_iter()
    .filter(|g| !g.rows.is_empty())
    .collect();
    let totals: Vec<ShareRow> = p
        .totals
        .iter()
        .flat_map(|t| {
            t.before.iter().zip(&t.after).map(move |(before, after)| ShareRow {
                level: level_name(l, t.level),
                pollutant: before.pollutant.clone(),
                before: format!("{:.1}%", before.ratio * 100.0),
                after: format!("{:.1}%", after.ratio * 100.0),
                target: format!("{:.0}%", after.target * 100.0),
            })
        })
        .collect();
    let in_use = p.identical_to == Some(p.current_version);
    PreviewView {
        name: p.name.clone(),
        added: d.added.len(),
        removed: d.removed.len(),
        changed: d.changed.len(),
        unchanged: d.unchanged,
        current_version: p.current_version,
        groups,
        totals,
        in_use,
        same_as: p.identical_to.filter(|_| !in_use),
        sha256: p.sha256.clone(),
    }
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

/// The list's versions on the office page.
#[derive(Template)]
#[template(path = "lists/versions.html")]
struct VersionsSection<'a> {
    l: &'a Lang,
    versions: Vec<VersionRow>,
}

/// A version of the list; the first is the one in use, the others may be restored.
struct VersionRow {
    version: i64,
    imported: String,
    /// The file's name, not where it lay on the server.
    file: String,
    enterprises: i64,
}

/// The list's versions, newest first, each earlier one with a button to make it current again.
pub(crate) async fn list_versions_section(s: &AppState, l: &Lang) -> Result<String, ApiError> {
    let versions = s.city.store.list_versions().await?;
    let versions: Vec<VersionRow> = versions
        .iter()
        .map(|v| VersionRow {
            version: v.version,
            imported: local_time(&v.imported_at),
            file: std::path::Path::new(&v.source)
                .file_name()
                .map_or(v.source.as_str(), |f| f.to_str().unwrap_or(&v.source))
                .to_owned(),
            enterprises: v.enterprises,
        })
        .collect();
    crate::templates::fragment(&VersionsSection { l, versions })
}
