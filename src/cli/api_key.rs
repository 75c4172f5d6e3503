use std::io::Write;

use clap::Subcommand;
use sea_orm::DatabaseConnection;
use serde::Serialize;
use uuid::Uuid;

use super::output::{self, ApiKeyJson};
use crate::clock::Clock;
use crate::config::parse_duration;
use crate::manage::{self, ManageError};
use crate::store;
use crate::store::api_keys::RevokeOutcome;
use crate::store::split_list;

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key; it is shown once and only its hash is stored
    Create {
        #[arg(long)]
        name: String,
        /// The user the key acts for
        #[arg(long, value_name = "USERNAME")]
        owner: String,
        /// Scopes of the key (repeat or list several)
        #[arg(long = "scope", value_name = "S", num_args = 1.., required = true)]
        scopes: Vec<String>,
        /// Lifetime, e.g. 90d or 12h [default: never expires]
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        expires_in: Option<std::time::Duration>,
        #[arg(long)]
        json: bool,
    },
    /// List keys (never the keys themselves)
    List {
        /// Only this user's keys
        #[arg(long, value_name = "USERNAME")]
        owner: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by its id
    Revoke { id: Uuid },
}

pub async fn run(
    db: &DatabaseConnection,
    settings: &crate::config::Settings,
    cmd: ApiKeyCommand,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let now = Clock::default().now();
    match cmd {
        ApiKeyCommand::Create {
            name,
            owner,
            scopes,
            expires_in,
            json,
        } => {
            let created =
                manage::create_api_key(db, &name, &owner, &scopes, expires_in, now).await?;
            if json {
                return output::print_json(
                    out,
                    &ApiKeyJson {
                        id: created.key.id.to_string(),
                        key: created.secret.secret(),
                        scopes: created.scopes.to_vec(),
                        expires_at: created.key.expires_at.map(output::time),
                    },
                );
            }
            writeln!(out, "id:         {}", created.key.id)?;
            writeln!(out, "key:        {}", created.secret.secret())?;
            writeln!(out, "scopes:     {}", created.scopes)?;
            writeln!(
                out,
                "expires_at: {}",
                output::opt_time(created.key.expires_at)
            )?;
            writeln!(out, "(the key is shown once; only its hash is stored)")?;
            Ok(())
        }
        ApiKeyCommand::List { owner, json } => {
            let owner_id = match owner {
                None => None,
                Some(name) => Some(
                    store::users::find_by_username(db, &name)
                        .await?
                        .ok_or(ManageError::UnknownOwner(name))?
                        .id,
                ),
            };
            let keys = store::api_keys::list(db, owner_id).await?;
            if json {
                #[derive(Serialize)]
                struct Row {
                    id: String,
                    name: String,
                    owner: Option<String>,
                    scopes: Vec<String>,
                    created_at: String,
                    expires_at: Option<String>,
                    revoked_at: Option<String>,
                    last_used_at: Option<String>,
                }
                let rows: Vec<Row> = keys
                    .into_iter()
                    .map(|(k, u)| Row {
                        id: k.id.to_string(),
                        name: k.name,
                        owner: u.map(|u| u.username),
                        scopes: split_list(&k.scopes),
                        created_at: output::time(k.created_at),
                        expires_at: k.expires_at.map(output::time),
                        revoked_at: k.revoked_at.map(output::time),
                        last_used_at: k.last_used_at.map(output::time),
                    })
                    .collect();
                return output::print_json(out, &rows);
            }
            writeln!(
                out,
                "{:<36}  {:<16}  {:<12}  {:<30}  {:<20}  {:<20}  LAST_USED",
                "ID", "NAME", "OWNER", "SCOPES", "EXPIRES", "REVOKED"
            )?;
            for (k, u) in keys {
                writeln!(
                    out,
                    "{:<36}  {:<16}  {:<12}  {:<30}  {:<20}  {:<20}  {}",
                    k.id,
                    k.name,
                    u.map(|u| u.username).unwrap_or_default(),
                    k.scopes,
                    output::opt_time(k.expires_at),
                    output::opt_time(k.revoked_at),
                    output::opt_time(k.last_used_at),
                )?;
            }
            Ok(())
        }
        ApiKeyCommand::Revoke { id } => {
            match manage::revoke_api_key(&manage::Effects::offline(db, settings, now), id).await? {
                RevokeOutcome::Revoked => {
                    writeln!(out, "revoked API key {id}")?;
                    Ok(())
                }
                RevokeOutcome::AlreadyRevoked => {
                    writeln!(out, "API key {id} was already revoked")?;
                    Ok(())
                }
                RevokeOutcome::NotFound => anyhow::bail!("no API key with id {id}"),
            }
        }
    }
}
