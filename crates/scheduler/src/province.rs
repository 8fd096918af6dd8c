//! A province: several cities in one deployment, and the regional advisories (区域预警提示) its
//! office issues to them. Each city keeps its own store (a SQLite file, or a schema of the one
//! PostgreSQL database), so its audit chain, numbering, outbox and job slots stay its own and a
//! city's users cannot reach another's rows; the province's store holds the advisories, the
//! answers and the province's users. An advisory step is committed in the province's store,
//! then queued in each named city's outbox (idempotent by key) and marked delivered there; a
//! crash between the two is caught up by [`Province::deliver_pending`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Datelike, FixedOffset, Utc};
use hazewarn_response::{Advisory, AdvisoryActor, AdvisoryTerms, CityAnswer, WarningLevel};
use hazewarn_store::{Store, StoredAnswer};
use serde::Deserialize;

use crate::respond::{Outgoing, Step};
use crate::{City, Clock, Config, SchedulerError, beijing};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvinceConfig {
    pub province: ProvinceInfo,
    pub cities: Vec<ProvinceCity>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvinceInfo {
    /// Prefix of the advisories' numbers, e.g. `henan` → `henan-2026-001`.
    pub id: String,
    pub name: String,
    /// The province's own store: advisories, answers, province users.
    pub store: String,
    /// Hours a city has to answer when the issuer gives no deadline.
    #[serde(default = "default_answer_hours")]
    pub answer_hours: u32,
}

fn default_answer_hours() -> u32 {
    12
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvinceCity {
    /// Must equal `city.id` of the city's own config.
    pub id: String,
    /// The city's config (relative to the province config).
    pub config: PathBuf,
    /// Where `serve --province` serves the city's pages.
    pub listen: Option<String>,
}

impl ProvinceConfig {
    pub fn load(path: &Path) -> Result<ProvinceConfig, SchedulerError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| SchedulerError::Config(format!("{}: {e}", path.display())))?;
        ProvinceConfig::parse(&text, path.parent().unwrap_or(Path::new(".")))
            .map_err(|e| SchedulerError::Config(format!("{}: {e}", path.display())))
    }

    /// Parses a province config whose relative paths are relative to `base`.
    pub fn parse(text: &str, base: &Path) -> Result<ProvinceConfig, String> {
        let mut c: ProvinceConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        if c.cities.is_empty() {
            return Err("cities: a province lists at least one city".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, city) in c.cities.iter_mut().enumerate() {
            if !seen.insert(city.id.clone()) {
                return Err(format!("cities[{i}].id: `{}` is listed twice", city.id));
            }
            if city.config.is_relative() {
                city.config = base.join(&city.config);
            }
        }
        let mut listens: Vec<&str> = c.cities.iter().filter_map(|c| c.listen.as_deref()).collect();
        listens.sort_unstable();
        if let Some(w) = listens.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("cities: two cities listen on {}", w[0]));
        }
        if let Some(rest) = c.province.store.strip_prefix("sqlite://")
            && !rest.starts_with('/')
            && !rest.starts_with(':')
        {
            c.province.store = format!("sqlite://{}", base.join(rest).display());
        }
        Ok(c)
    }
}

/// How a city answers an advisory; [`Province::answer`] turns it into a [`CityAnswer`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum AnswerRequest {
    /// Start or raise the city's warning to the advisory's level, through [`City::apply`].
    Follow,
    /// The warning in force already meets the advisory.
    InForce,
    Justify {
        reason: String,
    },
}

/// A change to an advisory in force.
#[derive(Debug, Clone, PartialEq)]
pub enum AdvisoryChange {
    Change(AdvisoryTerms),
    Extend(DateTime<FixedOffset>),
    Lift,
}

/// A city's warning in force, as the consultation shows it.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CityWarning {
    pub id: String,
    pub level: WarningLevel,
}

/// A day of a city's outlook: its daily AQI p50 and p10–p90.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutlookDay {
    pub date: chrono::NaiveDate,
    pub aqi_p10: u32,
    pub aqi_p50: u32,
    pub aqi_p90: u32,
}

/// One city in the consultation view (会商): its forecast for D+1..D+3, what its latest grading
/// recommends and its warning in force.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CityOutlook {
    pub city: String,
    pub name: String,
    /// D+1..D+3 of the latest run, as the forecaster left it.
    pub days: Vec<OutlookDay>,
    /// The warning level the city's latest grading recommends.
    pub recommended: Option<WarningLevel>,
    /// The city's warning in force.
    pub in_force: Option<CityWarning>,
}

pub struct Province {
    pub config: ProvinceConfig,
    pub store: Store,
    /// In the order the config lists them.
    pub cities: Vec<Arc<City>>,
    pub clock: Arc<dyn Clock>,
}

impl Province {
    /// Opens the province's store and every city, refusing a city whose own config names
    /// another id.
    pub async fn open(config: ProvinceConfig, clock: Arc<dyn Clock>) -> Result<Province, SchedulerError> {
        let store = Store::connect(&config.province.store).await?;
        let mut cities = Vec::with_capacity(config.cities.len());
        let mut urls = vec![("the province", config.province.store.clone())];
        for c in &config.cities {
            let cfg = Config::load(&c.config)?;
            // Two stores in one would mix two chains and two sets of users.
            if let Some((other, _)) = urls.iter().find(|(_, u)| *u == cfg.store.url) {
                return Err(SchedulerError::Config(format!(
                    "{}: its store is the store of {other}; each city needs its own",
                    c.config.display()
                )));
            }
            urls.push((c.id.as_str(), cfg.store.url.clone()));
            if cfg.city.id != c.id {
                return Err(SchedulerError::Config(format!(
                    "{}: city.id is `{}`, but the province lists it as `{}`",
                    c.config.display(),
                    cfg.city.id,
                    c.id
                )));
            }
            cities.push(Arc::new(City::open(cfg, clock.clone()).await?));
        }
        Ok(Province { config, store, cities, clock })
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn city(&self, id: &str) -> Result<&Arc<City>, SchedulerError> {
        self.cities
            .iter()
            .find(|c| c.config.city.id == id)
            .ok_or_else(|| SchedulerError::Input(format!("`{id}` is not a city of {}", self.config.province.name)))
    }

    fn check_cities(&self, terms: &AdvisoryTerms) -> Result<(), SchedulerError> {
        terms.cities.iter().try_for_each(|c| self.city(c).map(|_| ()))
    }

    /// Issues an advisory and delivers it to each named city's office.
    pub async fn issue(
        &self,
        terms: AdvisoryTerms,
        by: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Advisory, SchedulerError> {
        self.check_cities(&terms)?;
        crate::respond::check_words(by, reason)?;
        let at = beijing(now);
        let mut tx = self.store.write().await?;
        let id = tx.next_advisory_id(&format!("{}-{}", self.config.province.id, at.year())).await?;
        let a = Advisory::issue(&id, terms, AdvisoryActor { by, at, reason })?;
        tx.save_advisory(&a).await?;
        tx.commit().await?;
        self.deliver_logged(&a, now).await;
        Ok(a)
    }

    /// Changes, extends or lifts an advisory in force, and delivers the step.
    pub async fn step(
        &self,
        id: &str,
        change: AdvisoryChange,
        by: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Advisory, SchedulerError> {
        crate::respond::check_words(by, reason)?;
        let who = AdvisoryActor { by, at: beijing(now), reason };
        let mut tx = self.store.write().await?;
        // Read inside the transaction that writes it: a step taken meanwhile waits for this one.
        let mut a = tx
            .advisory(id)
            .await?
            .ok_or_else(|| SchedulerError::Store(hazewarn_store::StoreError::NotFound(format!("advisory {id}"))))?;
        match change {
            AdvisoryChange::Change(terms) => {
                self.check_cities(&terms)?;
                a.change(terms, who)?;
            }
            AdvisoryChange::Extend(end) => a.extend(end, who)?,
            AdvisoryChange::Lift => a.lift(who)?,
        }
        tx.save_advisory(&a).await?;
        tx.commit().await?;
        self.deliver_logged(&a, now).await;
        Ok(a)
    }

    /// A city's answer to the step of `id` that asks it. Following starts or raises the city's
    /// warning through [`City::apply`] (its own transaction, in its own store) before the
    /// answer is recorded: after a crash between the two the warning is in force, and the
    /// office answers again that it is.
    pub async fn answer(
        &self,
        city_id: &str,
        id: &str,
        request: AnswerRequest,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<StoredAnswer, SchedulerError> {
        let city = self.city(city_id)?;
        // An advisory that does not name the city is, to that city, one that does not exist.
        let missing = || SchedulerError::Store(hazewarn_store::StoreError::NotFound(format!("advisory {id}")));
        let a = self.store.advisory(id).await?.ok_or_else(missing)?;
        let asking = a.asking().clone();
        if !asking.terms.cities.iter().any(|c| c == city_id) {
            return Err(missing());
        }
        if a.is_over(beijing(now)) {
            return Err(SchedulerError::Conflict(format!("advisory {id} is over: it needs no answer")));
        }
        if self.store.answers(id).await?.iter().any(|x| x.city == city_id && x.step == asking.step) {
            return Err(SchedulerError::Conflict(format!(
                "{city_id} has already answered step {} of {id}",
                asking.step
            )));
        }
        if let AnswerRequest::Justify { reason } = &request {
            crate::respond::check_words(by, reason)?;
        }
        let in_force = city.store.warning_in_force().await?;
        let answer = match request {
            AnswerRequest::Justify { reason } => CityAnswer::Justified { reason },
            AnswerRequest::InForce => {
                let w =
                    in_force.ok_or_else(|| SchedulerError::Conflict(format!("{city_id} has no warning in force")))?;
                CityAnswer::InForce { warning: w.id.clone(), level: w.level() }
            }
            AnswerRequest::Follow => {
                let level = asking.terms.level;
                // The end the advisory has now, an extension included.
                let end = a.current().terms.end;
                let step = match &in_force {
                    Some(w) if w.level() >= level => {
                        return Err(SchedulerError::Conflict(format!(
                            "warning {} ({}) already meets the advisory: answer that it is in force",
                            w.id,
                            w.level().name()
                        )));
                    }
                    Some(w) => Step::Upgrade { level, end: w.current().end.max(end) },
                    None => Step::Issue { level, start: asking.terms.start.max(beijing(now)), end },
                };
                // Checked before the warning moves, so a refused answer leaves the city as it was.
                a.check_answer(city_id, &CityAnswer::Followed { warning: String::new(), level })?;
                let reason = format!("按省级区域预警提示 {id} 第 {} 步执行", asking.step);
                let w = city.apply(step, by, &reason, &format!("advisory:{id}"), now).await?;
                CityAnswer::Followed { warning: w.id.clone(), level: w.level() }
            }
        };
        a.check_answer(city_id, &answer)?;
        let stored = StoredAnswer {
            advisory_id: a.id.clone(),
            step: asking.step,
            city: city_id.to_owned(),
            answer,
            at: beijing(now),
            by: by.to_owned(),
        };
        let mut tx = self.store.write().await?;
        tx.save_answer(&stored).await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn deliver_logged(&self, a: &Advisory, now: DateTime<Utc>) {
        if let Err(e) = self.deliver(a, now).await {
            // The step stands; the province's follow-up catches the delivery up, and the page
            // shows the city as not yet reached meanwhile.
            tracing::error!(advisory = %a.id, error = %e, "advisory not yet queued for every city");
        }
    }

    /// Queues every step of `a` not yet delivered in each city it names or, for a change, stops
    /// naming. Returns how many (step, city) deliveries it made; a city that fails, or that has
    /// no channel for its office, does not stop the others (the first failure is returned after).
    async fn deliver(&self, a: &Advisory, now: DateTime<Utc>) -> Result<usize, SchedulerError> {
        let (mut made, mut failed) = (0, None);
        let delivered = self.store.advisory_deliveries(&a.id).await?;
        for (k, s) in a.steps.iter().enumerate() {
            // A change tells the cities it drops as well as those it names.
            let before = k.checked_sub(1).map_or(&[][..], |b| &a.steps[b].terms.cities[..]);
            let mut cities: Vec<&String> = s.terms.cities.iter().collect();
            cities.extend(before.iter().filter(|c| !s.terms.cities.contains(c)));
            for city_id in cities {
                if delivered.contains(&(s.step, city_id.clone())) {
                    continue;
                }
                match self.deliver_step(a, s, city_id, now).await {
                    Ok(true) => made += 1,
                    Ok(false) => {}
                    Err(e) => {
                        tracing::error!(advisory = %a.id, step = s.step, city = %city_id, error = %e, "advisory not delivered");
                        failed.get_or_insert(e);
                    }
                }
            }
        }
        failed.map_or(Ok(made), Err)
    }

    /// One step to one city: queued in its outbox (the receipt audited when the rows are new,
    /// so a catch-up after a crash adds none), then marked delivered in the province's store.
    /// False when no channel of the city takes its office's messages: it stays undelivered, and
    /// the province's page says so, while the city's office sees it on its own page.
    async fn deliver_step(
        &self,
        a: &Advisory,
        s: &hazewarn_response::AdvisoryStep,
        city_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, SchedulerError> {
        let city = self.city(city_id)?;
        let key = format!("advisory-{}-{}", a.id, s.step);
        let payload =
            serde_json::json!({"advisory": a.id, "province": self.config.province.name, "step": s}).to_string();
        let mut tx = city.store.write().await?;
        let m = Outgoing { kind: "office", key: &key, subject: &a.id, to: &city.duty, payload: &payload };
        let queued = city.enqueue_everywhere(&mut tx, m, now).await?;
        if queued.channels == 0 {
            return Ok(false);
        }
        if queued.new > 0 {
            tx.audit(now, &s.by, "advisory-received", &a.id, &payload).await?;
        }
        tx.commit().await?;
        let mut tx = self.store.write().await?;
        tx.mark_advisory_delivered(&a.id, s.step, city_id, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Delivers whatever a crash or a failing city store left undelivered.
    pub async fn deliver_pending(&self, now: DateTime<Utc>) -> Result<usize, SchedulerError> {
        let (mut made, mut failed) = (0, None);
        for a in self.store.advisories().await? {
            match self.deliver(&a, now).await {
                Ok(n) => made += n,
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
        }
        failed.map_or(Ok(made), Err)
    }

    /// The advisories addressed to `city` by their latest asking step, newest first.
    pub async fn advisories_for(&self, city: &str) -> Result<Vec<(Advisory, Option<StoredAnswer>)>, SchedulerError> {
        let mut out = Vec::new();
        for a in self.store.advisories().await? {
            if !a.asking().terms.cities.iter().any(|c| c == city) {
                continue;
            }
            let step = a.asking().step;
            let answer = self.store.answers(&a.id).await?.into_iter().find(|x| x.city == city && x.step == step);
            out.push((a, answer));
        }
        Ok(out)
    }

    /// Advisories in force: not lifted, and not past their end.
    pub async fn in_force(&self) -> Result<Vec<Advisory>, SchedulerError> {
        let now = beijing(self.now());
        Ok(self.store.advisories().await?.into_iter().filter(|a| !a.is_over(now)).collect())
    }

    /// Every city's D+1..D+3 outlook side by side (the consultation view, 会商).
    pub async fn consultation(&self, now: DateTime<Utc>) -> Result<Vec<CityOutlook>, SchedulerError> {
        let mut out = Vec::with_capacity(self.cities.len());
        for city in &self.cities {
            // What the city's forecasters approved, or else its latest run (会商 weighs drafts too).
            let run = match city.store.latest_forecast_run(now, true).await? {
                Some(r) => Some(r),
                None => city.store.latest_forecast_run(now, false).await?,
            };
            let days = match &run {
                Some(r) => city
                    .daily_of(r)
                    .await?
                    .into_iter()
                    .filter(|d| (1..=3).contains(&d.lead_day))
                    .map(|d| OutlookDay { date: d.date, aqi_p10: d.aqi_p10, aqi_p50: d.aqi_p50, aqi_p90: d.aqi_p90 })
                    .collect(),
                None => Vec::new(),
            };
            let recommended = match city.store.latest_graded_run().await? {
                Some(id) => city.store.recommendation(&id).await?.map(|r| r.level),
                None => None,
            };
            let in_force =
                city.store.warning_in_force().await?.map(|w| CityWarning { id: w.id.clone(), level: w.level() });
            out.push(CityOutlook {
                city: city.config.city.id.clone(),
                name: city.config.city.name.clone(),
                days,
                recommended,
                in_force,
            });
        }
        Ok(out)
    }
}

/// Runs every city's jobs on their cron schedules and catches advisory deliveries up once a
/// minute, until `stop` turns true. A city's scheduler that ends before then, for whatever
/// reason, ends the province's run with an error naming the city: a supervisor then sees a dead
/// province instead of one that looks alive while a city's forecasts and notices stop.
pub async fn run_province(
    province: Arc<Province>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<(), SchedulerError> {
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let mut tasks: tokio::task::JoinSet<Result<(), String>> = tokio::task::JoinSet::new();
    for city in &province.cities {
        let (id, c, until) = (city.config.city.id.clone(), city.clone(), stopped(stop.clone()));
        tasks.spawn(async move { crate::run_until(c, until).await.map_err(|e| format!("{id}: {e}")) });
    }
    let (p, until) = (province.clone(), stopped(stop.clone()));
    tasks.spawn(async move {
        let mut until = std::pin::pin!(until);
        loop {
            tokio::select! {
                () = tokio::time::sleep(std::time::Duration::from_secs(60)) => {
                    // A city store that fails now is tried again next minute; the province's
                    // page shows the city as not yet reached meanwhile.
                    if let Err(e) = p.deliver_pending(p.now()).await {
                        tracing::error!(error = %e, "advisory deliveries not caught up");
                    }
                }
                () = &mut until => return Ok(()),
            }
        }
    });
    supervise_tasks(tasks, stop, "a city's scheduler ended").await
}

/// Waits for every task; the first to fail, or to end before `stop` turns true, ends the wait
/// with an error (`ended` says what ended).
pub async fn supervise_tasks(
    mut tasks: tokio::task::JoinSet<Result<(), String>>,
    stop: tokio::sync::watch::Receiver<bool>,
    ended: &str,
) -> Result<(), SchedulerError> {
    while let Some(done) = tasks.join_next().await {
        match done.map_err(|e| e.to_string()).and_then(|r| r) {
            Ok(()) if *stop.borrow() => {}
            Ok(()) => return Err(SchedulerError::Job(ended.into())),
            Err(e) => return Err(SchedulerError::Job(e)),
        }
    }
    Ok(())
}
