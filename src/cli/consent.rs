use std::io::Write;

use clap::Subcommand;
use serde::Serialize;

use super::Ctx;
use super::output;
use crate::manage;

#[derive(Debug, Subcommand)]
pub enum ConsentCommand {
    /// List the apps a user has allowed, newest first
    List {
        /// Username or user id
        #[arg(long)]
        user: String,
        /// Print a JSON array of consents
        #[arg(long)]
        json: bool,
    },
    /// Take back what a user allowed an app: its codes, refresh and access
    /// tokens stop working and it must ask again
    Revoke {
        /// Username or user id
        #[arg(long)]
        user: String,
        /// The app's client id
        #[arg(long, value_name = "CLIENT_ID")]
        client: String,
        /// Print one JSON object: {"user_id", "client_id", "revoked": true}
        #[arg(long)]
        json: bool,
    },
}

#[derive(Serialize)]
struct ConsentJson<'a> {
    client_id: &'a str,
    client_name: &'a str,
    scopes: Vec<String>,
    granted_at: String,
    last_used_at: Option<String>,
}

pub async fn run(ctx: &Ctx<'_>, cmd: ConsentCommand, out: &mut dyn Write) -> anyhow::Result<()> {
    let fx = ctx.effects();
    match cmd {
        ConsentCommand::List { user, json } => {
            let user = manage::users::find(&fx, &user).await?;
            let apps = manage::access::connected_apps(&fx, user.id).await?;
            let rows: Vec<ConsentJson> = apps
                .iter()
                .map(|a| ConsentJson {
                    client_id: &a.client_id,
                    client_name: &a.client_name,
                    scopes: a.scopes.to_vec(),
                    granted_at: output::time(a.granted_at),
                    last_used_at: a.last_used_at.map(output::time),
                })
                .collect();
            if json {
                return output::print_json(out, &rows);
            }
            writeln!(
                out,
                "{:<36}  {:<24}  {:<20}  {:<20}  SCOPES",
                "CLIENT_ID", "NAME", "GRANTED", "LAST_USED"
            )?;
            for r in rows {
                writeln!(
                    out,
                    "{:<36}  {:<24}  {:<20}  {:<20}  {}",
                    r.client_id,
                    r.client_name,
                    r.granted_at,
                    r.last_used_at.as_deref().unwrap_or("-"),
                    r.scopes.join(" ")
                )?;
            }
            Ok(())
        }
        ConsentCommand::Revoke { user, client, json } => {
            let user = manage::users::find(&fx, &user).await?;
            manage::access::revoke_app(&fx, user.id, &client).await?;
            if json {
                return output::print_json(
                    out,
                    &serde_json::json!({ "user_id": user.id, "client_id": client, "revoked": true }),
                );
            }
            writeln!(
                out,
                "revoked what {} allowed {client}; its tokens are refused from now on",
                user.username
            )?;
            Ok(())
        }
    }
}
