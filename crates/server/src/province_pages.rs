//! The province's pages: its sign-in, and its one page — the consultation view (会商: every
//! city's D+1..D+3 side by side, what its grading recommends and its warning in force), the
//! regional advisories with each named city's answer and how late it was, and the forms that
//! issue, change, extend and lift them (they post to `province_view`'s handlers). The handlers
//! build display-ready rows; the templates under `templates/province/` lay them out.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset};
use hazewarn_response::{Advisory, AdvisoryState, WarningLevel};
use hazewarn_scheduler::{CityOutlook, beijing};

use crate::ApiError;
use crate::advisories_view::{LevelBadge, answer_text, status_of, status_text};
use crate::auth::Caller;
use crate::pages::{Lang, beijing_time, level_name};
use crate::province_view::ProvinceState;
use crate::templates::{Frame, LevelOption, NavLink, render, render_signed_in};

/// The province's navigation: its one page.
fn nav(l: &Lang) -> Vec<NavLink<'_>> {
    vec![NavLink { href: format!("/{}", l.q()), label: l.m("province.title") }]
}

#[derive(Template)]
#[template(path = "province/login.html")]
struct LoginPage<'a> {
    frame: Frame<'a>,
    l: &'a Lang,
}

pub(crate) async fn login_form(Query(l): Query<Lang>) -> Response {
    render(&LoginPage { frame: Frame::new(&l, l.m("signin.sign-in"), nav(&l), false), l: &l })
}

#[derive(Template)]
#[template(path = "province/page.html")]
struct ProvincePage<'a> {
    frame: Frame<'a>,
    l: &'a Lang,
    consultation: Vec<ConsultationRow>,
    advisories: Vec<AdvisoryBlock>,
    issue: IssueForm,
}

/// A city in the consultation view.
struct ConsultationRow {
    city: String,
    name: String,
    /// D+1..D+3; none for a day the city's latest run lacks.
    days: Vec<Option<OutlookCell>>,
    recommended: String,
    warning: Option<WarningCell>,
    /// `late differs`, `on-time` or none: the page colours the cell by it.
    against_class: &'static str,
    against: String,
}

/// A day's AQI p50 and p10–p90, coloured by the AQI category of p50.
struct OutlookCell {
    day: String,
    colour: String,
    text_colour: &'static str,
    category: String,
    p10: u32,
    p50: u32,
    p90: u32,
}

/// A city's warning in force.
struct WarningCell {
    badge: LevelBadge,
    id: String,
}

/// An advisory with every named city's answer, and the step forms while it runs.
struct AdvisoryBlock {
    id: String,
    badge: LevelBadge,
    /// In force, lifted or ended, in words.
    state: &'static str,
    start: String,
    end: String,
    step: u32,
    due: String,
    reason: String,
    answers: Vec<AnswerRow>,
    /// Change, extend and lift; none once the advisory is over.
    forms: Vec<StepForm>,
}

/// A named city's answer to the step that asks for it.
struct AnswerRow {
    city: String,
    name: String,
    answer: String,
    status: String,
    /// `awaiting`, `late` or `on-time`.
    status_class: &'static str,
    delivered: &'static str,
}

/// One of an advisory's step forms: `change` (new terms and cities), `extend` or `lift`.
struct StepForm {
    step: &'static str,
    label: &'static str,
    terms: TermsInputs,
    /// The cities a change keeps naming, as hidden fields.
    cities: Vec<String>,
}

/// The issue form, with every city ticked.
struct IssueForm {
    terms: TermsInputs,
    cities: Vec<CityChoice>,
}

struct CityChoice {
    id: String,
    name: String,
}

/// A form's level choice (when it has one) and date-time pickers, shared by the issue form and
/// the step forms; a template places it with `|safe`.
#[derive(Template)]
#[template(path = "province/terms_inputs.html")]
struct TermsInputs {
    level_label: &'static str,
    levels: Vec<LevelOption>,
    times: Vec<TimeField>,
}

/// A date-time picker in Beijing time (empty: the province's default applies).
struct TimeField {
    label: &'static str,
    name: &'static str,
    value: String,
}

/// The province's page, for a signed-in province user.
pub(crate) async fn page(
    State(s): State<ProvinceState>,
    Query(l): Query<Lang>,
    caller: Result<Caller, ApiError>,
) -> Response {
    let result: Result<Response, ApiError> = async {
        let caller = caller?;
        caller.require(&[hazewarn_store::users::Role::Province])?;
        let p = &s.province;
        let all = p.store.advisories().await?;
        let in_force: Vec<&Advisory> = all.iter().filter(|a| a.state == AdvisoryState::InForce).collect();
        let outlooks = p.consultation(p.now()).await?;
        let consultation: Vec<ConsultationRow> =
            outlooks.iter().map(|c| ConsultationRow::of(&l, c, &in_force)).collect();
        let advisories = advisory_blocks(&s, &l, &all).await?;
        let title = format!("{} {}", p.config.province.name, l.m("province.title"));
        let mut frame = Frame::new(&l, &title, nav(&l), false);
        frame.signed_in = true;
        let page = ProvincePage { frame, l: &l, consultation, advisories, issue: issue_form(&s, &l) };
        Ok(render_signed_in(&page, &caller.csrf))
    }
    .await;
    result.map_or_else(|e| crate::pages::login_needed(&l, e), IntoResponse::into_response)
}

impl ConsultationRow {
    /// The city's days, its grading's level, its warning in force, and whether that grading
    /// differs from an advisory in force naming it.
    fn of(l: &Lang, c: &CityOutlook, in_force: &[&Advisory]) -> ConsultationRow {
        let days = (0..3)
            .map(|k| {
                c.days.get(k).map(|d| {
                    let lv = hazewarn_aqi::Standards::builtin().for_date(d.date).level(d.aqi_p50);
                    OutlookCell {
                        day: d.date.format("%m-%d").to_string(),
                        colour: lv.rgb.clone(),
                        text_colour: crate::svg::text_on(&lv.rgb),
                        category: if l.en() { lv.category_en.clone() } else { lv.category.clone() },
                        p10: d.aqi_p10,
                        p50: d.aqi_p50,
                        p90: d.aqi_p90,
                    }
                })
            })
            .collect();
        let recommended = c.recommended.map_or_else(|| l.m("province.not-graded").to_owned(), |lv| level_name(l, lv));
        let warning = c.in_force.as_ref().map(|w| WarningCell { badge: LevelBadge::of(l, w.level), id: w.id.clone() });
        // An advisory in force naming the city, and the city's own grading at another level.
        let advised = in_force
            .iter()
            .filter(|a| a.current().terms.cities.contains(&c.city))
            .map(|a| a.current().terms.level)
            .max();
        let (against_class, against) = match (advised, c.recommended) {
            (Some(a), Some(r)) if a != r => {
                ("late differs", format!("{} {} / {}", l.m("province.differs"), level_name(l, r), level_name(l, a)))
            }
            (Some(_), Some(_)) => ("on-time", l.m("province.agrees").to_owned()),
            (Some(_), None) => ("", l.m("province.not-graded").to_owned()),
            (None, _) => ("", String::new()),
        };
        ConsultationRow {
            city: c.city.clone(),
            name: c.name.clone(),
            days,
            recommended,
            warning,
            against_class,
            against,
        }
    }
}

/// Every advisory, as the store lists them, with each named city's answer and whether the
/// advisory reached its office.
async fn advisory_blocks(s: &ProvinceState, l: &Lang, all: &[Advisory]) -> Result<Vec<AdvisoryBlock>, ApiError> {
    let p = &s.province;
    let now = beijing(p.now());
    let mut blocks = Vec::with_capacity(all.len());
    for a in all {
        let asking = a.asking();
        let current = a.current();
        let over = a.is_over(now);
        let state = match (a.state, over) {
            (AdvisoryState::Lifted, _) => l.m("advisory.lifted"),
            (_, true) => l.m("advisory.ended"),
            _ => l.m("province.in-force"),
        };
        let stored = p.store.answers(&a.id).await?;
        let delivered = p.store.advisory_deliveries(&a.id).await?;
        let answers: Vec<AnswerRow> = asking
            .terms
            .cities
            .iter()
            .map(|c| {
                let x = stored.iter().find(|x| &x.city == c && x.step == asking.step);
                let (status, status_class) = status_text(l, status_of(a, x, now));
                AnswerRow {
                    city: c.clone(),
                    name: p.city(c).map_or_else(|_| c.clone(), |city| city.config.city.name.clone()),
                    answer: x.map_or_else(|| "—".to_owned(), |x| answer_text(l, x)),
                    status,
                    status_class,
                    delivered: if delivered.contains(&(asking.step, c.clone())) {
                        l.m("province.yes")
                    } else {
                        l.m("province.not-yet")
                    },
                }
            })
            .collect();
        blocks.push(AdvisoryBlock {
            id: a.id.clone(),
            badge: LevelBadge::of(l, current.terms.level),
            state,
            start: beijing_time(current.terms.start),
            end: beijing_time(current.terms.end),
            step: current.step,
            due: beijing_time(asking.terms.deadline),
            reason: asking.reason.clone(),
            answers,
            forms: if over { Vec::new() } else { step_forms(l, a) },
        });
    }
    Ok(blocks)
}

/// A time as a date-time picker holds it: Beijing time without an offset.
fn local_input(t: DateTime<FixedOffset>) -> String {
    beijing(t.with_timezone(&chrono::Utc)).format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn time_field(label: &'static str, name: &'static str, value: String) -> TimeField {
    TimeField { label, name, value }
}

impl TermsInputs {
    fn new(l: &Lang, levels: Vec<LevelOption>, times: Vec<TimeField>) -> TermsInputs {
        TermsInputs { level_label: l.m("advisory.level"), levels, times }
    }
}

/// Change (the current terms filled in, the deadline left to the default), extend (the current
/// end) and lift.
fn step_forms(l: &Lang, a: &Advisory) -> Vec<StepForm> {
    let t = &a.current().terms;
    let end = || time_field(l.m("province.end"), "end", local_input(t.end));
    let change = vec![
        time_field(l.m("province.start"), "start", local_input(t.start)),
        end(),
        time_field(l.m("advisory.deadline"), "deadline", String::new()),
    ];
    vec![
        StepForm {
            step: "change",
            label: l.m("province.change"),
            terms: TermsInputs::new(l, LevelOption::coloured(l, t.level), change),
            cities: t.cities.clone(),
        },
        StepForm {
            step: "extend",
            label: l.m("province.extend"),
            terms: TermsInputs::new(l, Vec::new(), vec![end()]),
            cities: Vec::new(),
        },
        StepForm {
            step: "lift",
            label: l.m("province.lift"),
            terms: TermsInputs::new(l, Vec::new(), Vec::new()),
            cities: Vec::new(),
        },
    ]
}

/// Orange, starting when the answers are due by default, for three days; every city ticked.
fn issue_form(s: &ProvinceState, l: &Lang) -> IssueForm {
    let p = &s.province;
    let now = beijing(p.now());
    let hours = i64::from(p.config.province.answer_hours);
    let at = |h: i64| local_input(now + chrono::Duration::hours(h));
    let times = vec![
        time_field(l.m("province.start"), "start", at(hours)),
        time_field(l.m("province.end"), "end", at(hours + 72)),
        time_field(l.m("advisory.deadline"), "deadline", at(hours)),
    ];
    let cities = p
        .cities
        .iter()
        .map(|c| CityChoice { id: c.config.city.id.clone(), name: c.config.city.name.clone() })
        .collect();
    IssueForm { terms: TermsInputs::new(l, LevelOption::coloured(l, WarningLevel::Orange), times), cities }
}
