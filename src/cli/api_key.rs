use std::io::Write;

use clap::Subcommand;
use serde::Serialize;
use uuid::Uuid;

use super::Ctx;
use super::output::{self, ApiKeyJson};
use crate::config::parse_duration;
use crate::manage::{self, ManageError};
use crate::metrics::SecurityEvent;
use crate::store;
use crate::store::api_keys::RevokeOutcome;
use crate::store::split_list;

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key; it is shown once and only its hash is stored
    Create {
        /// A name to tell keys apart, e.g. the machine that uses it
        #[arg(long)]
        name: String,
        /// The user the key acts for
        #[arg(long, value_name = "USERNAME")]
        owner: String,
        /// Scopes of the key (repeat or list several): blog:read,
        /// blog:write, blog:admin, admin (the admin API)
        #[arg(long = "scope", value_name = "S", num_args = 1.., required = true)]
        scopes: Vec<String>,
        /// Lifetime, e.g. 90d or 12h [default: never expires]
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        expires_in: Option<std::time::Duration>,
        /// Print one JSON object: id, key, scopes, expires_at
        #[arg(long)]
        json: bool,
    },
    /// List keys (never the keys themselves)
    List {
        /// Only this user's keys
        #[arg(long, value_name = "USERNAME")]
        owner: Option<String>,
        /// Print a JSON array of keys
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by its id: it stops working, its record stays
    Revoke {
        /// The key's id (from `api-key list`)
        id: Uuid,
        /// Print one JSON object: {"id", "revoked": true, "already_revoked": bool}
        #[arg(long)]
        json: bool,
    },
    /// Delete a key by its id: it stops working and its record goes
    Delete {
        /// The key's id (from `api-key list`)
        id: Uuid,
        /// Print one JSON object: {"id", "deleted": true}
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(ctx: &Ctx<'_>, cmd: ApiKeyCommand, out: &mut dyn Write) -> anyhow::Result<()> {
    let fx = ctx.effects();
    let (db, now) = (fx.db, fx.now);
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
            fx.audit(
                SecurityEvent::AdminAction,
                "api_key.create",
                &format!("api key {} ({name}) of {owner}", created.key.id),
            );
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
        ApiKeyCommand::Revoke { id, json } => {
            let outcome = manage::revoke_api_key(&fx, id).await?;
            let already = match outcome {
                RevokeOutcome::Revoked => false,
                RevokeOutcome::AlreadyRevoked => true,
                RevokeOutcome::NotFound => {
                    return Err(ManageError::UnknownApiKey(id.to_string()).into());
                }
            };
            if json {
                return output::print_json(
                    out,
                    &serde_json::json!({ "id": id, "revoked": true, "already_revoked": already }),
                );
            }
            if already {
                writeln!(out, "API key {id} was already revoked")?;
            } else {
                writeln!(out, "revoked API key {id}")?;
            }
            Ok(())
        }
        ApiKeyCommand::Delete { id, json } => {
            manage::delete_api_key(&fx, id).await?;
            if json {
                return output::print_json(out, &serde_json::json!({ "id": id, "deleted": true }));
            }
            writeln!(out, "deleted API key {id}")?;
            Ok(())
        }
    }
}
