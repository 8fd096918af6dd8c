//! `hazewarn user`: accounts and their tokens. Forecasters and the office get a bearer token
//! (shown once); enterprises get one account per credit code from the active list and sign in
//! with a one-time code sent to the list's mobile or e-mail.

use anyhow::{Result, anyhow};
use hazewarn_store::users::{Role, User};

use crate::cycle_cmd::{ConfigArg, open, random_token, runtime};

pub fn add(c: &ConfigArg, name: &str, role: &str, credit_code: Option<&str>, token: Option<&str>) -> Result<()> {
    let role = Role::parse(role).filter(|r| *r != Role::Province).ok_or_else(|| {
        anyhow!(
            "`{role}` is not forecaster, office, enterprise or admin (a province user: `hazewarn province user-add`)"
        )
    })?;
    let token = match token {
        Some(t) => t.to_owned(),
        None => random_token(32)?,
    };
    runtime()?.block_on(async {
        let city = open(&c.config, None).await?;
        let user = User { name: name.to_owned(), role, credit_code: credit_code.map(str::to_owned) };
        city.check_new_user(&user, &token).await?;
        city.store.add_user(&user, &token, "cli", city.now()).await?;
        println!("user {name} ({}) added; bearer token (shown once): {token}", role.as_str());
        Ok(())
    })
}

/// One enterprise account per credit code on the active list.
pub fn import(c: &ConfigArg) -> Result<()> {
    runtime()?.block_on(async {
        let city = open(&c.config, None).await?;
        let (created, updated) = city.import_accounts("cli").await?;
        println!(
            "enterprise accounts from the active list: {created} created, {updated} updated (contacts); \
             they sign in with a code sent to the list's mobile or e-mail"
        );
        Ok(())
    })
}

pub fn list(c: &ConfigArg) -> Result<()> {
    runtime()?.block_on(async {
        let city = open(&c.config, None).await?;
        println!("{:<20} {:<11} {:<12} {:<28} state", "name", "role", "mobile", "e-mail");
        for a in city.store.accounts().await? {
            let state = a.disabled_at.as_deref().map_or("active".to_owned(), |at| format!("disabled {at}"));
            println!(
                "{:<20} {:<11} {:<12} {:<28} {state}",
                a.name,
                a.role.as_str(),
                a.mobile.as_deref().unwrap_or("-"),
                a.email.as_deref().unwrap_or("-")
            );
        }
        Ok(())
    })
}

pub fn set_disabled(c: &ConfigArg, name: &str, disabled: bool) -> Result<()> {
    runtime()?.block_on(async {
        let city = open(&c.config, None).await?;
        city.store.set_disabled(name, disabled, "cli", city.now()).await?;
        println!("account {name} {}", if disabled { "disabled; its sessions ended" } else { "enabled" });
        Ok(())
    })
}

pub fn rotate(c: &ConfigArg, name: &str) -> Result<()> {
    let token = random_token(32)?;
    runtime()?.block_on(async {
        let city = open(&c.config, None).await?;
        city.store.rotate_token(name, &token, "cli", city.now()).await?;
        println!("account {name}: new bearer token (shown once): {token}; the old one and its sessions ended");
        Ok(())
    })
}
