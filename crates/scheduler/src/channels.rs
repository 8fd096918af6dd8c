//! Building the configured channels, with their secrets read from the config or the
//! environment, and the acknowledgement-link signer that SMS and e-mail share.

use std::sync::Arc;

use crate::SchedulerError;
use crate::channel::{Channel, FileDrop, Webhook};
use crate::config::{ChannelConfig, Config};
use crate::links::AckLinks;
use crate::mail::{Smtp, SmtpServer};
use crate::robots::{DingTalkRobot, WeComRobot};
use crate::sms::{SmsGateway, TencentSms};

/// A link secret shorter than this is refused: the links stand in for a password.
const MIN_LINK_SECRET: usize = 32;

/// A channel setting given in the config or named by an environment variable.
fn given_or_env(
    channel: &str,
    key: &str,
    given: &Option<String>,
    env: &Option<String>,
) -> Result<String, SchedulerError> {
    setting(&format!("channel `{channel}`"), key, given, env)
}

/// A setting of `owner` (`channel `x``, `links`), given or named by an environment variable.
fn setting(owner: &str, key: &str, given: &Option<String>, env: &Option<String>) -> Result<String, SchedulerError> {
    match (given, env) {
        (Some(v), _) => Ok(v.clone()),
        (None, Some(var)) => std::env::var(var)
            .map_err(|_| SchedulerError::Config(format!("{owner}: environment variable {var} ({key}) is not set"))),
        (None, None) => Err(SchedulerError::Config(format!("{owner}: `{key}` or `{key}_env` is required"))),
    }
}

/// A robot's message kinds: the configured ones, each a kind hazewarn sends, or office and alert.
fn robot_kinds(channel: &str, kinds: &Option<Vec<String>>) -> Result<Vec<String>, SchedulerError> {
    let Some(kinds) = kinds else { return Ok(crate::robots::DEFAULT_KINDS.map(str::to_owned).to_vec()) };
    if let Some(k) = kinds.iter().find(|k| !["office", "alert", "notice"].contains(&k.as_str())) {
        return Err(SchedulerError::Config(format!(
            "channel `{channel}`: kinds: `{k}` is not one of office, alert, notice"
        )));
    }
    Ok(kinds.clone())
}

fn env_var(channel: &str, var: &str) -> Result<String, SchedulerError> {
    std::env::var(var)
        .map_err(|_| SchedulerError::Config(format!("channel `{channel}`: environment variable {var} is not set")))
}

pub(crate) fn http_client(timeout: std::time::Duration) -> reqwest::Client {
    reqwest::Client::builder().timeout(timeout).connect_timeout(timeout).build().expect("an HTTP client with rustls")
}

/// The city's link signer, if it configures links.
fn links(config: &Config) -> Result<Option<AckLinks>, SchedulerError> {
    let Some(l) = &config.links else { return Ok(None) };
    let secret = setting("links", "secret", &l.secret, &l.secret_env)?;
    if secret.chars().count() < MIN_LINK_SECRET {
        return Err(SchedulerError::Config(format!("links.secret: at least {MIN_LINK_SECRET} characters are needed")));
    }
    Ok(Some(AckLinks::new(secret.as_bytes(), &l.base_url)))
}

pub(crate) type Channels = Vec<Arc<dyn Channel>>;

/// Every configured channel, in the config's order, and the link signer.
pub(crate) fn build(config: &Config) -> Result<(Channels, Option<AckLinks>), SchedulerError> {
    let timeout = std::time::Duration::from_millis(config.delivery.timeout_ms);
    let links = links(config)?;
    // The config check makes sure links are configured wherever a channel needs them.
    let need_links = || links.clone().ok_or_else(|| SchedulerError::Config("[links] is required".into()));
    let mut channels: Vec<Arc<dyn Channel>> = Vec::new();
    for c in &config.channels {
        channels.push(match c {
            ChannelConfig::Webhook { name, url, secret, secret_env } => {
                let secret = given_or_env(name, "secret", secret, secret_env)?;
                Arc::new(Webhook::new(name, url, secret.as_bytes(), timeout))
            }
            ChannelConfig::FileDrop { name, dir } => Arc::new(FileDrop { name: name.clone(), dir: dir.clone() }),
            ChannelConfig::DingtalkRobot { name, webhook, webhook_env, secret, secret_env, kinds } => {
                Arc::new(DingTalkRobot {
                    name: name.clone(),
                    webhook: given_or_env(name, "webhook", webhook, webhook_env)?,
                    secret: given_or_env(name, "secret", secret, secret_env)?,
                    kinds: robot_kinds(name, kinds)?,
                    client: http_client(timeout),
                })
            }
            ChannelConfig::WecomRobot { name, webhook, webhook_env, kinds } => Arc::new(WeComRobot {
                name: name.clone(),
                webhook: given_or_env(name, "webhook", webhook, webhook_env)?,
                kinds: robot_kinds(name, kinds)?,
                client: http_client(timeout),
            }),
            ChannelConfig::TencentSms {
                name,
                endpoint,
                region,
                secret_id,
                secret_id_env,
                secret_key,
                secret_key_env,
                sdk_app_id,
                sign_name,
                notice_template,
                office_template,
                code_template,
            } => Arc::new(TencentSms {
                name: name.clone(),
                endpoint: endpoint.clone(),
                region: region.clone(),
                secret_id: given_or_env(name, "secret_id", secret_id, secret_id_env)?,
                secret_key: given_or_env(name, "secret_key", secret_key, secret_key_env)?,
                sdk_app_id: sdk_app_id.clone(),
                sign_name: sign_name.clone(),
                notice_template: notice_template.clone(),
                office_template: office_template.clone(),
                code_template: code_template.clone(),
                links: need_links()?,
                client: http_client(timeout),
            }),
            ChannelConfig::SmsGateway { name, url, secret, secret_env, sign_name, max_parts } => Arc::new(SmsGateway {
                name: name.clone(),
                url: url.clone(),
                secret: given_or_env(name, "secret", secret, secret_env)?.into_bytes(),
                sign_name: sign_name.clone(),
                max_parts: *max_parts,
                links: need_links()?,
                client: http_client(timeout),
            }),
            ChannelConfig::Smtp { name, host, port, from, tls, username_env, password_env, ca_file } => {
                let credentials = match (username_env, password_env) {
                    (None, None) => None,
                    (Some(user), Some(password)) => Some((env_var(name, user)?, env_var(name, password)?)),
                    _ => {
                        return Err(SchedulerError::Config(format!(
                            "channel `{name}`: username_env and password_env go together"
                        )));
                    }
                };
                let ca_pem = match ca_file {
                    Some(f) => Some(std::fs::read(f).map_err(|e| {
                        SchedulerError::Config(format!("channel `{name}`: ca_file {}: {e}", f.display()))
                    })?),
                    None => None,
                };
                let server = SmtpServer { host: host.clone(), port: *port, tls: *tls, credentials, ca_pem };
                Arc::new(Smtp::new(name, server, from, timeout, need_links()?)?)
            }
        });
    }
    Ok((channels, links))
}
