//! A city at run time: its configuration, store, clock, rule tables and delivery channels.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use hazewarn_response::{
    CapConfig, GradeRuleTable, GradingProfile, GuaranteePolicy, Inventory, ReductionList, ResponseError,
};
use hazewarn_store::Store;

use crate::channel::{Channel, Recipient};
use crate::clock::Clock;
use crate::config::Config;
use crate::dispatch::Dispatcher;
use crate::health::Health;
use crate::links::AckLinks;
use crate::{SchedulerError, beijing};

pub struct City {
    pub config: Config,
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub profile: GradingProfile,
    pub rules: GradeRuleTable,
    pub inventory: Inventory,
    pub cap: CapConfig,
    pub channels: Vec<Arc<dyn Channel>>,
    /// The signer of acknowledgement links, when the city configures them.
    pub links: Option<AckLinks>,
    /// The office's duty officers, as its messages reach them.
    pub duty: Recipient,
    /// The configured online monitors by MN, for the receiver's lookup of every packet.
    pub devices: std::collections::HashMap<String, crate::config::DeviceConfig>,
    /// How far measured evidence may stand from a line's treatment (`[compliance] tolerances`).
    pub tolerances: hazewarn_compliance::Tolerances,
    /// Stores the receiver's packets, several connections' in one transaction.
    pub(crate) readings_writer: crate::readings_writer::ReadingsWriter,
    /// What the HJ 212 receiver saw, per device.
    pub monitor_counts: Arc<crate::monitoring::ReceiverCounts>,
    /// This instance's name in leases and job runs.
    pub owner: String,
    /// When each job last finished, for `/readyz`.
    pub health: Health,
}

pub(crate) fn list_error(file: &str, e: ResponseError) -> SchedulerError {
    match e {
        ResponseError::ListImport(issues) => {
            let table: Vec<String> = issues.iter().map(|i| format!("  {i}")).collect();
            SchedulerError::Input(format!(
                "{file}: {} problem(s); nothing was imported\n{}",
                issues.len(),
                table.join("\n")
            ))
        }
        other => SchedulerError::Input(format!("{file}: {other}")),
    }
}

/// Parses a reduction list from CSV or XLSX bytes (by the file name's extension).
pub fn parse_list(name: &str, bytes: &[u8], rules: &GradeRuleTable) -> Result<ReductionList, SchedulerError> {
    let parsed = if name.to_ascii_lowercase().ends_with(".xlsx") {
        ReductionList::from_xlsx(bytes, rules)
    } else {
        ReductionList::from_csv(bytes, rules)
    };
    parsed.map_err(|e| list_error(name, e))
}

impl City {
    pub async fn open(config: Config, clock: Arc<dyn Clock>) -> Result<City, SchedulerError> {
        let profile = if config.city.profile.ends_with(".toml") {
            let text = std::fs::read_to_string(&config.city.profile)
                .map_err(|e| SchedulerError::Config(format!("{}: {e}", config.city.profile)))?;
            GradingProfile::from_toml(&config.city.profile, &text)?
        } else {
            GradingProfile::builtin(&config.city.profile)?
        };
        let inventory_file = config.data.inventory.display().to_string();
        let inventory = Inventory::from_csv(
            &std::fs::read(&config.data.inventory)
                .map_err(|e| SchedulerError::Input(format!("{inventory_file}: {e}")))?,
        )
        .map_err(|e| SchedulerError::Input(format!("{inventory_file}: {e}")))?;
        let (channels, links) = crate::channels::build(&config)?;
        let owner = format!("{}-{}", hostname(), std::process::id());
        let mut cap = config.cap.clone().unwrap_or_else(CapConfig::luohe);
        cap.public_measures = profile.public_measures.clone();
        // Last, so a configuration that fails to check creates no store file.
        let store = Store::connect_with(&config.store.url, config.store.max_connections).await?;
        let rules = GradeRuleTable::builtin();
        let duty = Recipient {
            endpoint: String::new(),
            // Checked when the config loaded.
            mobiles: config.duty.mobiles.iter().filter_map(|m| hazewarn_response::parse_mobile(m).ok()).collect(),
            emails: config.duty.emails.clone(),
            robot: None,
        };
        let devices = config.devices.iter().map(|d| (d.mn.clone(), d.clone())).collect();
        let tolerances = match &config.compliance.tolerances {
            None => hazewarn_compliance::Tolerances::builtin(),
            Some(p) => {
                let name = p.display().to_string();
                let text = std::fs::read_to_string(p).map_err(|e| SchedulerError::Config(format!("{name}: {e}")))?;
                hazewarn_compliance::Tolerances::from_toml(&name, &text)
                    .map_err(|e| SchedulerError::Config(e.to_string()))?
            }
        };
        let monitor_counts = Arc::new(crate::monitoring::ReceiverCounts::default());
        monitor_counts.seed(store.receiver_counts().await?);
        Ok(City {
            devices,
            tolerances,
            readings_writer: crate::readings_writer::ReadingsWriter::new(
                store.clone(),
                clock.clone(),
                monitor_counts.clone(),
            ),
            config,
            store,
            clock,
            profile,
            rules,
            inventory,
            cap,
            channels,
            links,
            duty,
            owner,
            health: Health::default(),
            monitor_counts,
        })
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn now_local(&self) -> DateTime<FixedOffset> {
        beijing(self.clock.now())
    }

    pub fn guarantee(&self) -> GuaranteePolicy {
        if self.config.city.guarantee == "exempt" { GuaranteePolicy::Exempt } else { GuaranteePolicy::HeatLed }
    }

    pub fn dispatcher(&self) -> Dispatcher {
        Dispatcher::new(
            self.store.clone(),
            self.channels.clone(),
            self.config.delivery.clone(),
            self.clock.clone(),
            &self.owner,
        )
    }

    /// The latest stored reduction list; the configured file is imported first when there is none.
    pub async fn list(&self) -> Result<(i64, ReductionList), SchedulerError> {
        if let Some(found) = self.store.latest_list().await? {
            return Ok(found);
        }
        let path = &self.config.data.list;
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| SchedulerError::Input(format!("{name}: {e}")))?;
        self.import_list(&name, &bytes, "scheduler").await
    }

    /// Validates and stores a new list version; an invalid list changes nothing.
    pub async fn import_list(
        &self,
        name: &str,
        bytes: &[u8],
        by: &str,
    ) -> Result<(i64, ReductionList), SchedulerError> {
        let list = self.checked_list(name, bytes)?;
        let sha = crate::lists::sha256_hex(bytes);
        // The file in use already: importing it again would only make a version identical to it.
        if let Some(current) = self.store.list_versions().await?.first()
            && current.sha256 == sha
        {
            return Err(SchedulerError::Conflict(format!(
                "{name} is identical to v{}, the list in use; nothing was imported",
                current.version
            )));
        }
        let mut tx = self.store.write().await?;
        let version = tx.save_list(&list, name, &sha, by, self.now()).await?;
        tx.commit().await?;
        Ok((version, list))
    }
}

/// The fewest characters, and distinct characters, a bearer token may have: 24 random hex
/// characters carry 96 bits; `user add` makes 64-character ones.
pub const MIN_TOKEN_CHARS: usize = 24;
const MIN_DISTINCT_TOKEN_CHARS: usize = 10;

/// Refuses a guessable token.
pub fn check_token(token: &str) -> Result<(), SchedulerError> {
    let distinct = token.chars().collect::<std::collections::BTreeSet<_>>().len();
    if token.chars().count() < MIN_TOKEN_CHARS || distinct < MIN_DISTINCT_TOKEN_CHARS {
        return Err(SchedulerError::Input(format!(
            "the token is too weak: at least {MIN_TOKEN_CHARS} characters with {MIN_DISTINCT_TOKEN_CHARS} different \
             ones (leave --token out to have one made)"
        )));
    }
    Ok(())
}

impl City {
    /// Refuses a user whose token is guessable, or an enterprise account whose credit code is
    /// missing or not on the city's active reduction list.
    pub async fn check_new_user(&self, user: &hazewarn_store::users::User, token: &str) -> Result<(), SchedulerError> {
        check_token(token)?;
        if user.role == hazewarn_store::users::Role::Province {
            return Err(SchedulerError::Input(
                "a province user belongs to the province's store: `hazewarn province user-add`".into(),
            ));
        }
        let is_enterprise = user.role == hazewarn_store::users::Role::Enterprise;
        match (&user.credit_code, is_enterprise) {
            (None, true) => Err(SchedulerError::Input("an enterprise account needs --credit-code".into())),
            (Some(_), false) => Err(SchedulerError::Input("only an enterprise account carries a credit code".into())),
            (Some(code), true) => {
                let (version, list) = self.list().await?;
                if list.enterprises.iter().any(|e| e.credit_code.as_str() == code) {
                    Ok(())
                } else {
                    Err(SchedulerError::Input(format!(
                        "credit code {code} is not on the active reduction list (v{version})"
                    )))
                }
            }
            (None, false) => Ok(()),
        }
    }
}

impl City {
    /// One enterprise account per credit code on the active list, named by it, with the list's
    /// mobile and e-mail (where its sign-in codes go); an existing account gets the list's
    /// contacts. Such an account has no usable token: it signs in by code. Returns (created,
    /// updated); audited.
    pub async fn import_accounts(&self, by: &str) -> Result<(usize, usize), SchedulerError> {
        let (_, list) = self.list().await?;
        let mut rows = Vec::with_capacity(list.enterprises.len());
        for e in &list.enterprises {
            let unusable = random_hex(32).map_err(|e| SchedulerError::Job(format!("/dev/urandom: {e}")))?;
            rows.push((e.credit_code.to_string(), e.contacts.mobile.clone(), e.contacts.email.clone(), unusable));
        }
        Ok(self.store.import_enterprise_accounts(&rows, by, self.now()).await?)
    }
}

/// `bytes` from the kernel's generator, as hex.
pub fn random_hex(bytes: usize) -> std::io::Result<String> {
    let mut buf = vec![0u8; bytes];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").map(|s| s.trim().to_owned()).unwrap_or_else(|_| "host".into())
}
