use std::io::Write;

use clap::Subcommand;
use serde::Serialize;

use super::Ctx;
use super::output;
use crate::manage;

#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// List a user's live browser sessions, most recently seen first
    List {
        /// Username or user id
        #[arg(long)]
        user: String,
        /// Print a JSON array of sessions
        #[arg(long)]
        json: bool,
    },
    /// End a user's browser session (or all of them), revoking the tokens
    /// issued under it
    Revoke {
        /// Username or user id
        #[arg(long)]
        user: String,
        /// The session's id (`sid`, from `session list`)
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        sid: Option<String>,
        /// End every session of the user
        #[arg(long)]
        all: bool,
        /// Print one JSON object: {"user_id", "ended": N}
        #[arg(long)]
        json: bool,
    },
}

#[derive(Serialize)]
struct SessionJson<'a> {
    sid: &'a str,
    created_at: String,
    last_seen_at: String,
    auth_time: String,
    expires_at: String,
    user_agent: Option<&'a str>,
}

pub async fn run(ctx: &Ctx<'_>, cmd: SessionCommand, out: &mut dyn Write) -> anyhow::Result<()> {
    let fx = ctx.effects();
    match cmd {
        SessionCommand::List { user, json } => {
            let user = manage::users::find(&fx, &user).await?;
            let sessions = manage::access::sessions(&fx, user.id).await?;
            let rows: Vec<SessionJson> = sessions
                .iter()
                .map(|s| SessionJson {
                    sid: &s.sid,
                    created_at: output::time(s.created_at),
                    last_seen_at: output::time(s.last_seen_at),
                    auth_time: output::time(s.auth_time),
                    expires_at: output::time(s.expires_at),
                    user_agent: s.user_agent.as_deref(),
                })
                .collect();
            if json {
                return output::print_json(out, &rows);
            }
            writeln!(
                out,
                "{:<32}  {:<20}  {:<20}  USER_AGENT",
                "SID", "STARTED", "LAST_SEEN"
            )?;
            for r in rows {
                writeln!(
                    out,
                    "{:<32}  {:<20}  {:<20}  {}",
                    r.sid,
                    r.created_at,
                    r.last_seen_at,
                    r.user_agent.unwrap_or("-")
                )?;
            }
            Ok(())
        }
        SessionCommand::Revoke {
            user,
            sid,
            all,
            json,
        } => {
            let user = manage::users::find(&fx, &user).await?;
            let ended = match sid {
                Some(sid) if !all => {
                    manage::access::end_session(&fx, user.id, &sid).await?;
                    1
                }
                _ => manage::access::end_all_sessions(&fx, user.id, None).await?,
            };
            if json {
                return output::print_json(
                    out,
                    &serde_json::json!({ "user_id": user.id, "ended": ended }),
                );
            }
            writeln!(out, "ended {ended} session(s) of {}", user.username)?;
            Ok(())
        }
    }
}
