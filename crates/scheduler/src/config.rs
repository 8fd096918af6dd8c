//! The city's configuration (TOML): where data lives, the sources, schedules, policy, delivery
//! channels. Relative paths are relative to the configuration file.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::SchedulerError;
pub use crate::monitor_config::{ComplianceConfig, DeviceConfig, MeterConfig, MeterRole, Monitoring};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub city: City,
    pub store: StoreConfig,
    pub data: DataConfig,
    #[serde(default)]
    pub sources: Vec<Source>,
    #[serde(default)]
    pub schedule: Schedule,
    #[serde(default)]
    pub policy: Policy,
    #[serde(default)]
    pub delivery: Delivery,
    #[serde(default)]
    pub channels: Vec<ChannelConfig>,
    /// The city's monitoring stations. With any, the city series (the mean of the assessment
    /// stations, HJ 663) is what is forecast and graded; without, the first station is.
    #[serde(default)]
    pub stations: Vec<StationConfig>,
    /// Who sends the public CAP alert (default: Luohe's office).
    pub cap: Option<hazewarn_response::CapConfig>,
    /// The office's duty officers, whom its own messages (escalations, approvals) reach.
    #[serde(default)]
    pub duty: Duty,
    /// The acknowledgement links that SMS and e-mail carry.
    pub links: Option<LinksConfig>,
    #[serde(default)]
    pub routing: Routing,
    /// The HJ 212 receiver, when the city takes online monitoring.
    pub monitoring: Option<Monitoring>,
    /// Online monitors (在线监测设备), by their `MN`.
    #[serde(default)]
    pub devices: Vec<DeviceConfig>,
    /// Electricity-use meters (分表计电) of production and abatement equipment.
    #[serde(default)]
    pub meters: Vec<MeterConfig>,
    #[serde(default)]
    pub compliance: ComplianceConfig,
}

/// The office's duty contacts (值班联系人): SMS and e-mail channels send its messages here; a
/// robot channel sends them to its own configured group.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Duty {
    #[serde(default)]
    pub mobiles: Vec<String>,
    #[serde(default)]
    pub emails: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinksConfig {
    /// The site as a phone reaches it, e.g. `https://hw.luohe.gov.cn`.
    pub base_url: String,
    /// The HMAC key of the links (at least 32 characters), or the environment variable holding it.
    pub secret: Option<String>,
    pub secret_env: Option<String>,
}

/// A notice's route: the channels that reach a person, tried in this order (channel names);
/// empty means every such channel, SMS first, then e-mail, then group robots.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Routing {
    #[serde(default)]
    pub notice: Vec<String>,
}

/// How an SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct City {
    /// Short id used in warning and run ids, e.g. `LH`.
    pub id: String,
    pub name: String,
    /// A built-in grading profile (`national-2024`, …) or a path to a profile TOML.
    #[serde(default = "default_profile")]
    pub profile: String,
    /// `heat-led` (以热定产) or `exempt` for 保障类 enterprises.
    #[serde(default = "default_guarantee")]
    pub guarantee: String,
    #[serde(default = "default_contact")]
    pub office_contact: String,
    /// A demonstration city's clock: it reads this time when the process starts and runs on at
    /// the wall clock's pace (pages show it as 演示时钟). A real city leaves it out.
    pub demo_clock_start: Option<chrono::DateTime<chrono::FixedOffset>>,
}

fn default_profile() -> String {
    "national-2024".into()
}
fn default_guarantee() -> String {
    "heat-led".into()
}
fn default_contact() -> String {
    "重污染天气应急指挥部办公室".into()
}

/// A monitoring station (国控点) of the city.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StationConfig {
    /// The station's code as the observations name it, e.g. `1234A`.
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub county: String,
    pub longitude: f64,
    pub latitude: f64,
    #[serde(default)]
    pub role: StationRole,
}

/// Whether a station enters the city mean (城市点) or is only shown (对照点/清洁对照点).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StationRole {
    #[default]
    Assessment,
    Reference,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `sqlite://FILE` (default for one instance) or `postgres://…`.
    pub url: String,
    /// The most connections this process opens to the store: many cities' stores on one
    /// PostgreSQL server must together stay under its `max_connections`.
    #[serde(default = "default_connections")]
    pub max_connections: u32,
}

fn default_connections() -> u32 {
    8
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// Where fetched files and the canonical Parquet are written.
    pub work_dir: PathBuf,
    /// Local observation files, read every cycle with any fetched ones. A directory stands for
    /// every file in it (hourly national releases, say), read in name order.
    #[serde(default)]
    pub observations: Vec<PathBuf>,
    /// Layout of the observation files (default: detected).
    pub format: Option<String>,
    pub station: Option<String>,
    /// National layouts: the city's name in the real-time release's `area` column (e.g. 漯河市).
    /// The configured stations are read too; a configured station whose rows name another city
    /// is an error.
    pub area: Option<String>,
    /// The meteorological source for station data that carries none: weather-station tables
    /// (canonical layout, met columns only; files or directories), joined on the hour.
    #[serde(default)]
    pub met_observations: Vec<PathBuf>,
    /// A model directory written by `hazewarn train` (holds model.json).
    pub model: PathBuf,
    /// A model trained without future meteorology, used when the NWP feed fails.
    pub fallback_model: Option<PathBuf>,
    /// A met-forecast CSV (issue_time,valid_time,met columns) for offline runs.
    pub met_forecast: Option<PathBuf>,
    /// Emissions-history table (time,sector,index); curtailments in force are added to it.
    pub emissions: Option<PathBuf>,
    /// The reduction list imported when the store has none (CSV or XLSX).
    pub list: PathBuf,
    pub inventory: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// Canonical hourly observations as CSV.
    ObservationsCsv,
    /// Canonical hourly observations as a JSON array of objects keyed by the canonical columns.
    ObservationsJson,
    /// The Open-Meteo forecast JSON (`hourly` arrays) as the NWP meteorological forecast.
    OpenMeteo,
    /// Power meter readings (`meter,time,kw`) as CSV, pulled by the compliance job.
    PowerCsv,
    /// Power meter readings as a JSON array of `{meter, time, kw}`, pulled by the compliance job.
    PowerJson,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub name: String,
    pub kind: SourceKind,
    pub url: String,
    #[serde(default = "default_timeout")]
    pub timeout_s: f64,
    #[serde(default = "default_retries")]
    pub retries: u32,
}

fn default_timeout() -> f64 {
    10.0
}
fn default_retries() -> u32 {
    3
}

/// Six-field cron expressions (sec min hour day month weekday), Asia/Shanghai.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Schedule {
    pub ingest: String,
    pub forecast: Vec<String>,
    pub evaluate: Vec<String>,
    pub dispatch: String,
    pub verify: String,
    /// Compliance checks of the warning in force (hourly by default).
    pub compliance: String,
    /// Seconds past a job's due time before `/readyz` calls it overdue.
    pub overdue_after_s: u64,
}

impl Default for Schedule {
    fn default() -> Schedule {
        Schedule {
            ingest: "0 5 * * * *".into(),
            forecast: vec!["0 0 6 * * *".into(), "0 0 16 * * *".into()],
            evaluate: vec!["0 20 6 * * *".into(), "0 20 16 * * *".into()],
            dispatch: "*/30 * * * * *".into(),
            verify: "0 45 * * * *".into(),
            compliance: "0 50 * * * *".into(),
            overdue_after_s: 900,
        }
    }
}

/// One scheduled job: its name, the configuration key it came from and its cron expression.
#[derive(Debug, Clone)]
pub struct ScheduledJob {
    pub job: &'static str,
    pub key: String,
    pub cron: String,
}

impl Schedule {
    /// Every job with its schedule, in the order `run` registers them.
    pub fn jobs(&self) -> Vec<ScheduledJob> {
        let one =
            |job: &'static str, cron: &str| ScheduledJob { job, key: format!("schedule.{job}"), cron: cron.into() };
        let mut jobs = vec![
            one("ingest", &self.ingest),
            one("dispatch", &self.dispatch),
            one("verify", &self.verify),
            one("compliance", &self.compliance),
        ];
        for (job, list) in [("forecast", &self.forecast), ("evaluate", &self.evaluate)] {
            jobs.extend(list.iter().enumerate().map(|(i, cron)| ScheduledJob {
                job,
                key: format!("schedule.{job}[{i}]"),
                cron: cron.clone(),
            }));
        }
        jobs
    }
}

/// Station codes are unique, coordinates are on the globe, and some station is an assessment one.
fn check_stations(stations: &[StationConfig]) -> Result<(), String> {
    for (k, s) in stations.iter().enumerate() {
        if s.code.trim().is_empty() {
            return Err(format!("stations[{k}].code is empty"));
        }
        if stations[..k].iter().any(|t| t.code == s.code) {
            return Err(format!("stations[{k}].code: `{}` is listed twice", s.code));
        }
        if !(-180.0..=180.0).contains(&s.longitude) || !(-90.0..=90.0).contains(&s.latitude) {
            return Err(format!(
                "stations[{k}] ({}): longitude/latitude {}, {} are not on the globe",
                s.code, s.longitude, s.latitude
            ));
        }
    }
    if !stations.is_empty() && stations.iter().all(|s| s.role == StationRole::Reference) {
        return Err("stations: none is an assessment station (城市点), so there is no city mean".into());
    }
    Ok(())
}

/// Parses a six-field cron expression the way the scheduler does (seconds required; a day of
/// the month and a weekday both given must both match).
pub fn parse_cron(expr: &str) -> Result<croner::Cron, String> {
    use croner::parser::{CronParser, Seconds};
    CronParser::builder()
        .seconds(Seconds::Required)
        .dom_and_dow(true)
        .build()
        .parse(expr)
        .map_err(|e| format!("`{expr}` is not a six-field cron expression (sec min hour day month weekday): {e}"))
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Grade the latest forecast without waiting for a forecaster's approval.
    pub auto_approve: bool,
    /// Issue the recommended action without waiting for the office.
    pub auto_issue: bool,
    /// Hours an enterprise has to acknowledge a notice.
    pub ack_hours: u32,
    /// Hours after the deadline before an unacknowledged notice is escalated to the office.
    pub escalate_after_hours: u32,
    /// Hours between public-alert updates while a warning is in force, per level.
    pub update_hours_yellow: u32,
    pub update_hours_orange: u32,
    pub update_hours_red: u32,
    /// The longest warning window (start to end) a step may set, in days.
    pub max_warning_days: u32,
    /// Lift a warning automatically once its window has ended (the follow-up job does it).
    pub lift_on_expiry: bool,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            auto_approve: false,
            auto_issue: false,
            ack_hours: 2,
            escalate_after_hours: 2,
            update_hours_yellow: 8,
            update_hours_orange: 4,
            update_hours_red: 4,
            max_warning_days: 15,
            lift_on_expiry: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Delivery {
    pub max_attempts: u32,
    pub base_backoff_ms: u64,
    pub max_backoff_ms: u64,
    pub timeout_ms: u64,
    pub lease_s: u64,
    pub batch: u32,
    pub concurrency: usize,
}

impl Default for Delivery {
    fn default() -> Delivery {
        Delivery {
            max_attempts: 10,
            base_backoff_ms: 5_000,
            max_backoff_ms: 600_000,
            timeout_ms: 10_000,
            lease_s: 120,
            batch: 200,
            concurrency: 32,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ChannelConfig {
    /// HTTP POST of the JSON message, HMAC-SHA256 signed. Notices go to the enterprise's own
    /// endpoint when it is an http(s) URL, else to `url`.
    Webhook {
        name: String,
        url: String,
        /// The signing secret, or the environment variable holding it.
        secret: Option<String>,
        secret_env: Option<String>,
    },
    /// Writes each message as `<idempotency key>.json` into a directory, atomically.
    FileDrop { name: String, dir: PathBuf },
    /// A 钉钉 custom robot with signed (加签) security: its webhook address (with the access
    /// token) and its `SEC…` secret, each given or named by an environment variable.
    DingtalkRobot {
        name: String,
        webhook: Option<String>,
        webhook_env: Option<String>,
        secret: Option<String>,
        secret_env: Option<String>,
        /// Message kinds it takes (`office`, `alert`, `notice`); default office and alert.
        kinds: Option<Vec<String>>,
    },
    /// A 企业微信 group robot: its webhook address (with the key), given or by environment variable.
    WecomRobot { name: String, webhook: Option<String>, webhook_env: Option<String>, kinds: Option<Vec<String>> },
    /// Tencent Cloud SMS (`SendSms`), with approved templates.
    TencentSms {
        name: String,
        #[serde(default = "tencent_endpoint")]
        endpoint: String,
        #[serde(default = "tencent_region")]
        region: String,
        secret_id: Option<String>,
        secret_id_env: Option<String>,
        secret_key: Option<String>,
        secret_key_env: Option<String>,
        sdk_app_id: String,
        sign_name: String,
        /// Five parameters: enterprise, level, start, deadline, link token.
        notice_template: String,
        /// One parameter: the office's message; without it the office's messages skip SMS.
        office_template: Option<String>,
        /// Two parameters: a sign-in code and its minutes; without it codes go by e-mail.
        code_template: Option<String>,
    },
    /// A city's own SMS platform: JSON `{id, mobiles, content, parts}`, HMAC-signed.
    SmsGateway {
        name: String,
        url: String,
        secret: Option<String>,
        secret_env: Option<String>,
        sign_name: String,
        #[serde(default = "default_parts")]
        max_parts: usize,
    },
    /// E-mail over SMTP: plain text and HTML, with the printable notice attached.
    Smtp {
        name: String,
        host: String,
        port: u16,
        from: String,
        tls: SmtpTls,
        username_env: Option<String>,
        password_env: Option<String>,
        /// PEM of a CA the server's certificate may also chain to (a city's own mail server),
        /// beside the public roots; relative to the config.
        ca_file: Option<PathBuf>,
    },
}

fn tencent_endpoint() -> String {
    "https://sms.tencentcloudapi.com".into()
}
fn tencent_region() -> String {
    "ap-guangzhou".into()
}
/// Three parts hold a notice's name, times and link with room to spare.
fn default_parts() -> usize {
    3
}

impl ChannelConfig {
    pub fn name(&self) -> &str {
        match self {
            ChannelConfig::Webhook { name, .. }
            | ChannelConfig::FileDrop { name, .. }
            | ChannelConfig::DingtalkRobot { name, .. }
            | ChannelConfig::WecomRobot { name, .. }
            | ChannelConfig::TencentSms { name, .. }
            | ChannelConfig::SmsGateway { name, .. }
            | ChannelConfig::Smtp { name, .. } => name,
        }
    }
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, SchedulerError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| SchedulerError::Config(format!("{}: {e}", path.display())))?;
        Config::parse(&text, path.parent().unwrap_or(Path::new(".")))
            .map_err(|e| SchedulerError::Config(format!("{}: {e}", path.display())))
    }

    /// Parses a configuration whose relative paths are relative to `base`.
    pub fn parse(text: &str, base: &Path) -> Result<Config, String> {
        let mut c: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        let abs = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        let d = &mut c.data;
        abs(&mut d.work_dir);
        abs(&mut d.model);
        abs(&mut d.list);
        abs(&mut d.inventory);
        d.observations.iter_mut().for_each(abs);
        d.met_observations.iter_mut().for_each(abs);
        for p in [&mut d.fallback_model, &mut d.met_forecast, &mut d.emissions, &mut c.compliance.tolerances]
            .into_iter()
            .flatten()
        {
            abs(p);
        }
        for ch in &mut c.channels {
            match ch {
                ChannelConfig::FileDrop { dir, .. } => abs(dir),
                ChannelConfig::Smtp { ca_file: Some(f), .. } => abs(f),
                _ => {}
            }
        }
        if let Some(rest) = c.store.url.strip_prefix("sqlite://")
            && !rest.starts_with('/')
            && !rest.starts_with(':')
        {
            c.store.url = format!("sqlite://{}", base.join(rest).display());
        }
        if !["heat-led", "exempt"].contains(&c.city.guarantee.as_str()) {
            return Err(format!("city.guarantee: `{}` is not heat-led or exempt", c.city.guarantee));
        }
        let mut names: Vec<&str> = c.channels.iter().map(ChannelConfig::name).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) {
            return Err("channels: two channels share a name".into());
        }
        for j in c.schedule.jobs() {
            parse_cron(&j.cron).map_err(|e| format!("{}: {e}", j.key))?;
        }
        check_stations(&c.stations)?;
        if c.data.area.is_some() && c.stations.is_empty() {
            // The release names many stations per city; without the list there is no city mean.
            return Err("data.area needs the city's [[stations]]: which of them are assessment stations".into());
        }
        check_people(&c)?;
        crate::monitor_config::check_devices(&c.devices)?;
        crate::monitor_config::check_meters(&c.meters, &c.devices)?;
        if c.policy.max_warning_days == 0 {
            return Err("policy.max_warning_days must be at least 1".into());
        }
        if c.delivery.max_attempts == 0 || c.delivery.batch == 0 || c.delivery.concurrency == 0 {
            return Err("delivery: max_attempts, batch and concurrency must be at least 1".into());
        }
        Ok(c)
    }
}

/// Duty contacts parse, the route names configured channels, and channels whose messages carry
/// acknowledgement links have them configured.
fn check_people(c: &Config) -> Result<(), String> {
    for (k, m) in c.duty.mobiles.iter().enumerate() {
        hazewarn_response::parse_mobile(m).map_err(|e| format!("duty.mobiles[{k}]: {e}"))?;
    }
    for (k, m) in c.duty.emails.iter().enumerate() {
        hazewarn_response::parse_email(m).map_err(|e| format!("duty.emails[{k}]: {e}"))?;
    }
    for (k, n) in c.routing.notice.iter().enumerate() {
        let Some(ch) = c.channels.iter().find(|ch| ch.name() == n) else {
            return Err(format!("routing.notice[{k}]: no channel is named `{n}`"));
        };
        if matches!(ch, ChannelConfig::Webhook { .. } | ChannelConfig::FileDrop { .. }) {
            return Err(format!(
                "routing.notice[{k}]: `{n}` is a machine channel, which takes every notice; a route lists SMS, \
                 e-mail and robot channels"
            ));
        }
        if c.routing.notice[..k].contains(n) {
            return Err(format!("routing.notice[{k}]: `{n}` is listed twice"));
        }
    }
    let linked = c.channels.iter().find(|ch| {
        matches!(ch, ChannelConfig::TencentSms { .. } | ChannelConfig::SmsGateway { .. } | ChannelConfig::Smtp { .. })
    });
    if let (Some(ch), None) = (linked, &c.links) {
        return Err(format!(
            "channel `{}` carries acknowledgement links: [links] base_url and secret are needed",
            ch.name()
        ));
    }
    if let Some(l) = &c.links {
        // The links stand in for a password: plain http only for a server on this machine.
        let local = ["http://127.0.0.1", "http://localhost", "http://[::1]"].iter().any(|p| l.base_url.starts_with(p));
        let url = reqwest::Url::parse(&l.base_url).map_err(|e| format!("links.base_url: `{}`: {e}", l.base_url))?;
        if !(url.scheme() == "https" || local) || url.query().is_some() {
            return Err(format!(
                "links.base_url: `{}` must be an https address without a query (http only for 127.0.0.1 or localhost)",
                l.base_url
            ));
        }
    }
    for ch in &c.channels {
        match ch {
            ChannelConfig::Smtp { name, tls: SmtpTls::None, username_env: Some(_), .. } => {
                return Err(format!(
                    "channel `{name}`: a password is never sent without TLS; set tls to starttls or tls"
                ));
            }
            ChannelConfig::SmsGateway { name, max_parts: 0, .. } => {
                return Err(format!("channel `{name}`: max_parts must be at least 1"));
            }
            ChannelConfig::TencentSms { name, endpoint, .. } => {
                let url = reqwest::Url::parse(endpoint)
                    .map_err(|e| format!("channel `{name}`: endpoint `{endpoint}`: {e}"))?;
                if url.host_str().is_none() || url.path() != "/" || url.query().is_some() {
                    return Err(format!(
                        "channel `{name}`: endpoint `{endpoint}` must be a bare address such as https://sms.tencentcloudapi.com"
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "[city]\nid = \"X\"\nname = \"x\"\n[store]\nurl = \"sqlite://x.db\"\n[data]\n\
        work_dir = \"w\"\nmodel = \"m\"\nlist = \"l.csv\"\ninventory = \"i.csv\"\n";

    /// Replays `fuzz/regressions/city_config/`: each is refused with a reason, never a panic.
    #[test]
    fn fuzz_regressions_of_the_config_parser_are_errors_not_panics() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/city_config");
        let entries: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        assert!(!entries.is_empty());
        for path in entries {
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            let e = Config::parse(&text, Path::new("/tmp")).unwrap_err();
            assert!(!e.is_empty(), "{}", path.display());
        }
    }

    #[test]
    fn an_invalid_cron_expression_is_refused_with_its_key() {
        let text = format!("{MINIMAL}[schedule]\ndispatch = \"*/30 * * *\"\n");
        let e = Config::parse(&text, Path::new("/tmp")).unwrap_err();
        assert!(e.starts_with("schedule.dispatch: `*/30 * * *` is not a six-field cron expression"), "{e}");
        let text = format!("{MINIMAL}[schedule]\nforecast = [\"0 0 6 * * *\", \"0 0 25 * * *\"]\n");
        let e = Config::parse(&text, Path::new("/tmp")).unwrap_err();
        assert!(e.starts_with("schedule.forecast[1]: `0 0 25 * * *`"), "{e}");
        assert!(Config::parse(MINIMAL, Path::new("/tmp")).is_ok());
    }

    #[test]
    fn national_sources_are_relative_to_the_config_and_need_the_station_list() {
        let data = MINIMAL.replace(
            "[data]\n",
            "[data]\nobservations = [\"obs/realtime\"]\narea = \"漯河市\"\nmet_observations = [\"obs/met.csv\"]\n",
        );
        let e = Config::parse(&data, Path::new("/etc/city")).unwrap_err();
        assert!(e.starts_with("data.area needs the city's [[stations]]"), "{e}");
        let with_station =
            format!("{data}[[stations]]\ncode = \"1001A\"\nname = \"市监测站\"\nlongitude = 114.0\nlatitude = 33.6\n");
        let c = Config::parse(&with_station, Path::new("/etc/city")).unwrap();
        assert_eq!(c.data.observations, [PathBuf::from("/etc/city/obs/realtime")]);
        assert_eq!(c.data.met_observations, [PathBuf::from("/etc/city/obs/met.csv")]);
    }

    #[test]
    fn routes_duty_contacts_links_and_mail_settings_are_checked_with_their_keys() {
        let links = "[links]\nbase_url = \"https://hw.example.gov.cn\"\nsecret = \"x\"\n";
        let mail = "[[channels]]\nkind = \"smtp\"\nname = \"mail\"\nhost = \"h\"\nport = 25\nfrom = \"a@b.cn\"\ntls = \"none\"\n";
        let files = "[[channels]]\nkind = \"file-drop\"\nname = \"files\"\ndir = \"d\"\n";
        let cases = [
            (
                format!("{MINIMAL}{mail}"),
                "channel `mail` carries acknowledgement links: [links] base_url and secret are needed",
            ),
            (
                format!("{MINIMAL}{links}{mail}[routing]\nnotice = [\"sms\"]\n"),
                "routing.notice[0]: no channel is named `sms`",
            ),
            (
                format!("{MINIMAL}{links}{mail}{files}[routing]\nnotice = [\"mail\", \"files\"]\n"),
                "routing.notice[1]: `files` is a machine channel",
            ),
            (
                format!("{MINIMAL}{links}{mail}[routing]\nnotice = [\"mail\", \"mail\"]\n"),
                "routing.notice[1]: `mail` is listed twice",
            ),
            (
                format!("{MINIMAL}[duty]\nmobiles = [\"0395-1234567\"]\n"),
                "duty.mobiles[0]: `0395-1234567` is not a mainland mobile",
            ),
            (format!("{MINIMAL}[duty]\nemails = [\"duty\"]\n"), "duty.emails[0]: `duty` is not an e-mail address"),
            (
                format!("{MINIMAL}[links]\nbase_url = \"http://hw.example.gov.cn\"\nsecret = \"x\"\n"),
                "links.base_url: `http://hw.example.gov.cn` must be an https address",
            ),
            (
                format!(
                    "{MINIMAL}{links}{}",
                    mail.replace("tls = \"none\"", "tls = \"none\"\nusername_env = \"U\"\npassword_env = \"P\"")
                ),
                "channel `mail`: a password is never sent without TLS",
            ),
        ];
        for (text, want) in cases {
            let e = Config::parse(&text, Path::new("/tmp")).unwrap_err();
            assert!(e.starts_with(want), "{e}\nwanted: {want}");
        }
        let local = format!("{MINIMAL}[links]\nbase_url = \"http://127.0.0.1:8080\"\nsecret = \"x\"\n{mail}");
        assert!(Config::parse(&local, Path::new("/tmp")).is_ok(), "plain http on this machine is allowed");
    }

    #[test]
    fn devices_are_checked_with_their_index_and_field() {
        let device = |mn: &str, code: &str, codes: &str| {
            format!(
                "[[devices]]\nmn = \"{mn}\"\npassword = \"1\"\ncredit_code = \"{code}\"\nline = \"1#\"\ncodes = {codes}\n"
            )
        };
        let ok = device("LH0001", "91411100MA4007919J", "[\"a34013\"]");
        assert!(Config::parse(&format!("{MINIMAL}{ok}"), Path::new("/tmp")).is_ok());
        let cases = [
            (format!("{ok}{ok}"), "devices[1].mn: `LH0001` is listed twice"),
            (
                device("LH-1", "91411100MA4007919J", "[\"a34013\"]"),
                "devices[0].mn: `LH-1` is not 1 to 24 letters and digits",
            ),
            (device("LH1", "91411100MA4007919K", "[\"a34013\"]"), "devices[0].credit_code:"),
            (device("LH1", "91411100MA4007919J", "[]"), "devices[0].codes: a device reports at least one code"),
            (device("LH1", "91411100MA4007919J", "[\"PM2.5\"]"), "devices[0].codes: `PM2.5` is not a code"),
        ];
        for (extra, want) in cases {
            let e = Config::parse(&format!("{MINIMAL}{extra}"), Path::new("/tmp")).unwrap_err();
            assert!(e.starts_with(want), "{e}\nwanted: {want}");
        }
    }
}
