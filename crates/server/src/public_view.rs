//! The public page: the latest observed hour (real-time AQI, primary pollutant), the warning in
//! force with its issue time and what the public is asked to do at its level, and the 3-day
//! outlook with health advice. What it shows is `GET /api/v1/public/current`.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;

use crate::pages::{Lang, city_frame, level_colour, level_name, response_words};
use crate::templates::{Frame, render};
use crate::{ApiError, AppState, api, svg};

#[derive(Template)]
#[template(path = "public.html")]
struct PublicPage<'a> {
    frame: Frame<'a>,
    l: &'a Lang,
    observed: Option<ObservedView>,
    warning: Option<WarningView>,
    measures: Vec<MeasureGroup<'a>>,
    outlook: Vec<OutlookRow>,
}

struct ObservedView {
    time: String,
    colour: String,
    text_colour: &'static str,
    aqi: u32,
    category: String,
    primary: String,
    pm25: String,
}

struct WarningView {
    colour: &'static str,
    text_colour: &'static str,
    level: String,
    response: String,
    start: String,
    end: String,
    issued: String,
}

/// 健康防护提示, 建议性措施 or 强制性措施, with the profile's words for the level.
struct MeasureGroup<'a> {
    title: &'static str,
    items: Vec<&'a str>,
}

struct OutlookRow {
    date: String,
    colour: String,
    text_colour: &'static str,
    aqi: u32,
    category: String,
    advice: String,
}

pub(crate) async fn public(State(s): State<AppState>, Query(l): Query<Lang>) -> Result<Response, ApiError> {
    let axum::Json(cur) = api::public_current(State(s.clone())).await?;
    let en = l.en();
    let observed = cur.observed.map(|o| ObservedView {
        time: o.time.format("%Y-%m-%d %H:00").to_string(),
        text_colour: svg::text_on(&o.colour),
        colour: o.colour,
        aqi: o.aqi,
        category: if en { o.category_en } else { o.category },
        primary: if o.primary.is_empty() {
            l.m("compliance.none").to_owned()
        } else {
            o.primary.join(l.m("pages.list-enumeration"))
        },
        pm25: format!("{:.0}", o.pm25),
    });
    let level = cur.warning.as_ref().map(|w| w.level);
    let warning = cur.warning.map(|w| WarningView {
        colour: level_colour(w.level),
        text_colour: svg::text_on(level_colour(w.level)),
        level: level_name(&l, w.level),
        response: response_words(&l, w.level),
        start: w.start.format("%Y-%m-%d %H:%M").to_string(),
        end: w.end.format("%Y-%m-%d %H:%M").to_string(),
        issued: crate::pages::beijing_time(w.issued_at),
    });
    let measures = match level.and_then(|level| s.city.profile.public_measures_at(level)) {
        None => Vec::new(),
        Some(m) => [
            ("pages.measures-health", &m.health),
            ("pages.measures-advisory", &m.advisory),
            ("pages.measures-mandatory", &m.mandatory),
        ]
        .into_iter()
        .filter(|(_, texts)| !texts.is_empty())
        .map(|(key, texts)| MeasureGroup {
            title: l.m(key),
            items: texts.iter().map(|t| if en { t.en.as_str() } else { t.zh.as_str() }).collect(),
        })
        .collect(),
    };
    let outlook = cur
        .outlook
        .into_iter()
        .map(|d| OutlookRow {
            date: d.date.to_string(),
            text_colour: svg::text_on(&d.colour),
            colour: d.colour,
            aqi: d.aqi,
            category: if en { d.category_en } else { d.category },
            advice: if en { d.advice_en } else { d.advice },
        })
        .collect();
    let title = format!("{} {}", cur.city, l.m("pages.air-quality-and-warnings"));
    let page = PublicPage { frame: city_frame(&s, &l, &title, false), l: &l, observed, warning, measures, outlook };
    Ok(render(&page))
}
