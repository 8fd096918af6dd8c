//! The office's exports to Excel, in the page's language: the reduction plan of the warning in
//! force (each line with its measure and kg/d cut, 保障类 and 白名单 marked, and the totals against
//! the targets), the delivery status of its notices, and their acknowledgements; and a page that
//! prints the warning with its plan.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hazewarn_response::{CurtailmentPlan, Warning};
use hazewarn_store::users::Role;
use rust_xlsxwriter::{Format, Workbook, Worksheet};

use crate::auth::Caller;
use crate::pages::{Lang, city_frame, delivery_status, late_acknowledgement, level_name, login_needed, treatment_name};
use crate::templates::{Frame, render};
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/office/export/plan.xlsx", get(plan_xlsx))
        .route("/office/export/deliveries.xlsx", get(deliveries_xlsx))
        .route("/office/export/acknowledgements.xlsx", get(acknowledgements_xlsx))
        .route("/office/print", get(print_page))
}

/// The office's links to the exports and the print view.
#[derive(Template)]
#[template(path = "exports/links.html")]
struct ExportLinks<'a> {
    l: &'a Lang,
}

/// The office's links to the exports and the print view, for the office's page.
pub fn links(l: &Lang) -> Result<String, ApiError> {
    crate::templates::fragment(&ExportLinks { l })
}

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> ApiError {
    ApiError::Internal(format!("xlsx: {e}"))
}

/// One sheet: a bold header row, then the rows; numbers stay numbers.
enum Cell {
    Text(String),
    Number(f64),
}

fn sheet(wb: &mut Workbook, name: &str, header: &[&str], rows: &[Vec<Cell>]) -> Result<(), ApiError> {
    let ws: &mut Worksheet = wb.add_worksheet().set_name(name).map_err(xlsx_error)?;
    let bold = Format::new().set_bold();
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold).map_err(xlsx_error)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32 + 1, c as u16);
            match cell {
                Cell::Text(t) => ws.write_string(r, c, t).map(|_| ()),
                Cell::Number(n) => ws.write_number(r, c, *n).map(|_| ()),
            }
            .map_err(xlsx_error)?;
        }
    }
    ws.autofit();
    Ok(())
}

/// One sheet of an export: its name, its header row and its rows.
type Sheet<'a> = (&'a str, &'a [&'a str], Vec<Vec<Cell>>);

/// A workbook of `sheets`, sent as the download `file`.
fn workbook(file: &str, sheets: &[Sheet<'_>]) -> Result<Response, ApiError> {
    let mut wb = Workbook::new();
    for (name, header, rows) in sheets {
        sheet(&mut wb, name, header, rows)?;
    }
    Ok(download(file, wb.save_to_buffer().map_err(xlsx_error)?))
}

fn download(file: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
        ],
        bytes,
    )
        .into_response()
}

/// The warning in force and the plan its notices were issued from (stored with the step that
/// made it, not recomputed from today's list); none in force is a 404.
async fn in_force(s: &AppState) -> Result<(Warning, CurtailmentPlan), ApiError> {
    let w = s.city.store.warning_in_force().await?.ok_or(ApiError::NotFound)?;
    for t in w.transitions.iter().rev() {
        if let Some(p) = s.city.store.plan(&w.id, t.step).await? {
            return Ok((w, p));
        }
    }
    Err(ApiError::NotFound)
}

async fn plan_xlsx(State(s): State<AppState>, Query(l): Query<Lang>, caller: Result<Caller, ApiError>) -> Response {
    let result = async {
        caller?.require(&[Role::Office])?;
        let (w, p) = in_force(&s).await?;
        let mut rows = Vec::new();
        for e in &p.enterprises {
            for x in &e.lines {
                let r = &x.reduction_kg_d;
                rows.push(vec![
                    Cell::Text(e.name.clone()),
                    Cell::Text(e.credit_code.clone()),
                    Cell::Text(e.county.clone()),
                    Cell::Text(e.industry.clone()),
                    Cell::Text(crate::pages::grade_name(&l, e.grade).to_owned()),
                    Cell::Text(treatment_name(&l, e.treatment).to_owned()),
                    Cell::Text(x.line.clone()),
                    Cell::Text(if l.en() { x.measure_en.clone() } else { x.measure_zh.clone() }),
                    Cell::Number(r.so2),
                    Cell::Number(r.nox),
                    Cell::Number(r.pm),
                    Cell::Number(r.vocs),
                ]);
            }
        }
        let header = [
            l.m("compliance.enterprise"),
            l.m("exports.credit-code"),
            l.m("pages.county"),
            l.m("exports.industry"),
            l.m("pages.grade"),
            l.m("exports.treatment"),
            l.m("compliance.line"),
            l.m("pages.measure"),
            "SO₂ kg/d",
            "NOx kg/d",
            "PM kg/d",
            "VOCs kg/d",
        ];
        let plan_header = header;
        let totals: Vec<Vec<Cell>> = p
            .totals
            .iter()
            .map(|t| {
                vec![
                    Cell::Text(t.pollutant.clone()),
                    Cell::Number(t.reduction_kg_d),
                    Cell::Number(t.total_kg_d),
                    Cell::Number(t.ratio),
                    Cell::Number(t.target),
                    Cell::Text(if t.met { l.m("exports.met") } else { l.m("exports.short") }.to_owned()),
                ]
            })
            .collect();
        let header = [
            l.m("compliance.pollutant"),
            l.m("pages.cut-kg-d"),
            l.m("exports.total-kg-d"),
            l.m("pages.share"),
            l.m("compliance.target"),
            l.m("exports.met-or-short"),
        ];
        workbook(
            &format!("{}-plan.xlsx", w.id),
            &[(l.m("exports.plan"), &plan_header, rows), (l.m("exports.totals"), &header, totals)],
        )
    }
    .await;
    result.unwrap_or_else(|e| login_needed(&l, e))
}

async fn deliveries_xlsx(
    State(s): State<AppState>,
    Query(l): Query<Lang>,
    caller: Result<Caller, ApiError>,
) -> Response {
    let result = async {
        caller?.require(&[Role::Office])?;
        let w = s.city.store.warning_in_force().await?.ok_or(ApiError::NotFound)?;
        let rows: Vec<Vec<Cell>> = crate::api::delivery_rows(&s)
            .await?
            .into_iter()
            .map(|d| {
                let channels: Vec<String> =
                    d.deliveries.iter().map(|(c, st)| format!("{c}: {}", delivery_status(&l, st))).collect();
                vec![
                    Cell::Text(d.notice_id),
                    Cell::Text(d.enterprise),
                    Cell::Text(d.credit_code),
                    Cell::Number(f64::from(d.step)),
                    Cell::Text(level_name(&l, d.level)),
                    Cell::Text(channels.join("; ")),
                    Cell::Text(d.acknowledged_at.as_deref().map(crate::pages::local_time).unwrap_or_default()),
                    Cell::Text(if d.overdue { l.m("exports.yes") } else { "" }.to_owned()),
                    Cell::Text(if d.escalated { l.m("exports.yes") } else { "" }.to_owned()),
                ]
            })
            .collect();
        let header = [
            l.m("pages.notice"),
            l.m("compliance.enterprise"),
            l.m("exports.credit-code"),
            l.m("history.step"),
            l.m("pages.level"),
            l.m("exports.channels"),
            l.m("pages.acknowledged"),
            l.m("exports.overdue"),
            l.m("exports.escalated"),
        ];
        workbook(&format!("{}-deliveries.xlsx", w.id), &[(l.m("exports.deliveries"), &header, rows)])
    }
    .await;
    result.unwrap_or_else(|e| login_needed(&l, e))
}

async fn acknowledgements_xlsx(
    State(s): State<AppState>,
    Query(l): Query<Lang>,
    caller: Result<Caller, ApiError>,
) -> Response {
    let result = async {
        caller?.require(&[Role::Office])?;
        let w = s.city.store.warning_in_force().await?.ok_or(ApiError::NotFound)?;
        let notices = s.city.store.notices_of(&w.id, None).await?;
        let rows: Vec<Vec<Cell>> = notices
            .iter()
            .map(|n| {
                let x = &n.notice;
                let late = late_acknowledgement(n);
                vec![
                    Cell::Text(x.id.clone()),
                    Cell::Text(x.enterprise.clone()),
                    Cell::Text(x.credit_code.clone()),
                    Cell::Text(x.issued_at.format("%Y-%m-%d %H:%M").to_string()),
                    Cell::Text(x.ack_deadline.format("%Y-%m-%d %H:%M").to_string()),
                    Cell::Text(n.acknowledged_at.as_deref().map(crate::pages::local_time).unwrap_or_default()),
                    Cell::Text(n.acknowledged_via.clone().unwrap_or_default()),
                    Cell::Text(if late { l.m("exports.yes") } else { "" }.to_owned()),
                ]
            })
            .collect();
        let header = [
            l.m("pages.notice"),
            l.m("compliance.enterprise"),
            l.m("exports.credit-code"),
            l.m("pages.issued-3"),
            l.m("pages.acknowledge-by"),
            l.m("pages.acknowledged"),
            l.m("exports.via"),
            l.m("exports.late"),
        ];
        workbook(&format!("{}-acknowledgements.xlsx", w.id), &[(l.m("exports.acknowledgements"), &header, rows)])
    }
    .await;
    result.unwrap_or_else(|e| login_needed(&l, e))
}

/// The warning in force and its plan on one page, for printing (the stylesheet's print rules
/// drop the navigation and forms).
#[derive(Template)]
#[template(path = "exports/print.html")]
struct PrintPage<'a> {
    frame: Frame<'a>,
    l: &'a Lang,
    warning: PrintedWarning,
    totals: Vec<PrintedTotal>,
    lines: Vec<PrintedLine>,
}

/// The warning's step in force: its level and period in Beijing time, and why.
struct PrintedWarning {
    id: String,
    level: String,
    start: String,
    end: String,
    reason: String,
}

/// A pollutant's total cut against its target.
struct PrintedTotal {
    pollutant: String,
    cut: String,
    share: String,
    target: String,
    met: &'static str,
}

/// A line of the plan with its measure in the page's language.
struct PrintedLine {
    enterprise: String,
    grade: &'static str,
    treatment: &'static str,
    line: String,
    measure: String,
}

/// Only the office prints; none in force is a 404.
async fn print_page(State(s): State<AppState>, Query(l): Query<Lang>, caller: Result<Caller, ApiError>) -> Response {
    let result = async {
        caller?.require(&[Role::Office])?;
        let (w, p) = in_force(&s).await?;
        let t = w.current();
        let warning = PrintedWarning {
            id: w.id.clone(),
            level: level_name(&l, w.level()),
            start: crate::pages::beijing_time(t.start),
            end: crate::pages::beijing_time(t.end),
            reason: t.reason.clone(),
        };
        let totals: Vec<PrintedTotal> = p
            .totals
            .iter()
            .map(|x| PrintedTotal {
                pollutant: x.pollutant.clone(),
                cut: format!("{:.1}", x.reduction_kg_d),
                share: format!("{:.1}\u{a0}%", x.ratio * 100.0),
                target: format!("{:.0}\u{a0}%", x.target * 100.0),
                met: if x.met { l.m("exports.met") } else { l.m("exports.short") },
            })
            .collect();
        let mut lines = Vec::new();
        for e in &p.enterprises {
            for x in &e.lines {
                lines.push(PrintedLine {
                    enterprise: e.name.clone(),
                    grade: crate::pages::grade_name(&l, e.grade),
                    treatment: treatment_name(&l, e.treatment),
                    line: x.line.clone(),
                    measure: if l.en() { x.measure_en.clone() } else { x.measure_zh.clone() },
                });
            }
        }
        let page =
            PrintPage { frame: city_frame(&s, &l, l.m("exports.print-title"), false), l: &l, warning, totals, lines };
        Ok::<_, ApiError>(render(&page).into_response())
    }
    .await;
    result.unwrap_or_else(|e| login_needed(&l, e))
}
