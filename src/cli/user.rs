use std::io::{BufRead, IsTerminal, Write};

use anyhow::Context;
use clap::Subcommand;
use sea_orm::DatabaseConnection;

use super::output::{self, UserJson};
use crate::clock::Clock;
use crate::manage;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user
    Create {
        username: String,
        /// Read the password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
        /// Display name: the OpenID Connect `name` claim (profile scope)
        #[arg(long)]
        name: Option<String>,
        /// Email address: the OpenID Connect `email` claim (email scope)
        #[arg(long)]
        email: Option<String>,
        /// Mark the email address as verified (`email_verified: true`)
        #[arg(long)]
        email_verified: bool,
        #[arg(long)]
        json: bool,
    },
    /// Change a user's name or email ("" removes one)
    Update {
        username: String,
        /// New display name; "" removes it
        #[arg(long)]
        name: Option<String>,
        /// New email address; "" removes it. A new address is unverified
        /// unless --email-verified true is given too
        #[arg(long)]
        email: Option<String>,
        /// Whether the email address is verified
        #[arg(long, value_name = "true|false")]
        email_verified: Option<bool>,
        #[arg(long)]
        json: bool,
    },
    /// List users
    List {
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(
    db: &DatabaseConnection,
    cmd: UserCommand,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Create {
            username,
            password_stdin,
            name,
            email,
            email_verified,
            json,
        } => {
            let password = if password_stdin {
                read_password_line(input)?
            } else {
                prompt_password()?
            };
            let profile = manage::ProfileRequest {
                name,
                email,
                email_verified,
            };
            let user =
                manage::create_user(db, &username, password, profile, Clock::default().now())
                    .await?;
            if json {
                output::print_json(
                    out,
                    &UserJson {
                        id: user.id.to_string(),
                        username: &user.username,
                    },
                )
            } else {
                writeln!(out, "created user {} ({})", user.username, user.id)?;
                Ok(())
            }
        }
        UserCommand::Update {
            username,
            name,
            email,
            email_verified,
            json,
        } => {
            let update = manage::ProfileUpdate {
                name,
                email,
                email_verified,
            };
            let user =
                manage::update_user_profile(db, &username, update, Clock::default().now()).await?;
            if json {
                return output::print_json(out, &output::ProfileJson::from(&user));
            }
            writeln!(
                out,
                "updated user {}: name {}, email {}{}",
                user.username,
                user.name.as_deref().unwrap_or("-"),
                user.email.as_deref().unwrap_or("-"),
                if user.email_verified {
                    " (verified)"
                } else {
                    ""
                }
            )?;
            Ok(())
        }
        UserCommand::List { json } => {
            let users = crate::store::users::list(db).await?;
            if json {
                let rows: Vec<output::ProfileJson> =
                    users.iter().map(output::ProfileJson::from).collect();
                return output::print_json(out, &rows);
            }
            writeln!(out, "{:<36}  {:<32}  CREATED", "ID", "USERNAME")?;
            for u in users {
                writeln!(
                    out,
                    "{:<36}  {:<32}  {}",
                    u.id,
                    u.username,
                    output::time(u.created_at)
                )?;
            }
            Ok(())
        }
    }
}

fn read_password_line(input: &mut dyn BufRead) -> anyhow::Result<String> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        anyhow::bail!("no password on standard input");
    }
    Ok(password)
}

fn prompt_password() -> anyhow::Result<String> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "standard input is not a terminal: pass --password-stdin and pipe the password"
        );
    }
    let first = rpassword::prompt_password("Password: ").context("cannot read the password")?;
    let second =
        rpassword::prompt_password("Repeat password: ").context("cannot read the password")?;
    if first != second {
        anyhow::bail!("the passwords do not match");
    }
    Ok(first)
}
