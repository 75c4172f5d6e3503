use std::io::{BufRead, IsTerminal, Write};

use anyhow::Context;
use clap::Subcommand;

use super::Ctx;
use super::output::{self, ProfileJson, UserJson};
use crate::manage;
use crate::metrics::SecurityEvent;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user
    Create {
        /// The name they sign in with (letters, digits, . _ -)
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
        /// Print one JSON object: {"id", "username"}
        #[arg(long)]
        json: bool,
    },
    /// Show one user
    Get {
        /// Username or user id
        user: String,
        /// Print one JSON object
        #[arg(long)]
        json: bool,
    },
    /// Change a user's name or email ("" removes one)
    Update {
        /// Username or user id
        user: String,
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
        /// Print the updated user as one JSON object
        #[arg(long)]
        json: bool,
    },
    /// List users
    List {
        /// Print a JSON array of users
        #[arg(long)]
        json: bool,
    },
    /// Disable a user: no sign-in and no token until enabled; ends their
    /// sessions and revokes their tokens
    Disable {
        /// Username or user id
        user: String,
        /// Print the user as one JSON object
        #[arg(long)]
        json: bool,
    },
    /// Enable a disabled user (revoked tokens stay revoked)
    Enable {
        /// Username or user id
        user: String,
        /// Print the user as one JSON object
        #[arg(long)]
        json: bool,
    },
    /// Set a user's password (a reset): ends their sessions and revokes
    /// their refresh tokens
    SetPassword {
        /// Username or user id
        user: String,
        /// Read the password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
        /// Print the user as one JSON object
        #[arg(long)]
        json: bool,
    },
    /// Delete a user with their sessions, tokens, consents and API keys
    /// (their posts stay)
    Delete {
        /// Username or user id
        user: String,
        /// Print one JSON object: {"id", "username", "deleted": true}
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(
    ctx: &Ctx<'_>,
    cmd: UserCommand,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let fx = ctx.effects();
    match cmd {
        UserCommand::Create {
            username,
            password_stdin,
            name,
            email,
            email_verified,
            json,
        } => {
            let password = read_password(password_stdin, input)?;
            let profile = manage::ProfileRequest {
                name,
                email,
                email_verified,
            };
            let user = manage::create_user(fx.db, &username, password, profile, fx.now).await?;
            fx.audit(
                SecurityEvent::AdminAction,
                "user.create",
                &format!("user {} ({})", user.id, user.username),
            );
            if json {
                return output::print_json(
                    out,
                    &UserJson {
                        id: user.id.to_string(),
                        username: &user.username,
                    },
                );
            }
            writeln!(out, "created user {} ({})", user.username, user.id)?;
            Ok(())
        }
        UserCommand::Get { user, json } => {
            let user = manage::users::find(&fx, &user).await?;
            if json {
                return output::print_json(out, &ProfileJson::from(&user));
            }
            writeln!(out, "id:             {}", user.id)?;
            writeln!(out, "username:       {}", user.username)?;
            writeln!(
                out,
                "name:           {}",
                user.name.as_deref().unwrap_or("-")
            )?;
            writeln!(
                out,
                "email:          {}",
                user.email.as_deref().unwrap_or("-")
            )?;
            writeln!(out, "email_verified: {}", user.email_verified)?;
            writeln!(
                out,
                "disabled_at:    {}",
                output::opt_time(user.disabled_at)
            )?;
            writeln!(out, "created_at:     {}", output::time(user.created_at))?;
            Ok(())
        }
        UserCommand::Update {
            user,
            name,
            email,
            email_verified,
            json,
        } => {
            let user = manage::users::find(&fx, &user).await?;
            let update = manage::ProfileUpdate {
                name,
                email,
                email_verified,
            };
            let user = manage::update_user_profile(fx.db, &user.username, update, fx.now).await?;
            fx.audit(
                SecurityEvent::AdminAction,
                "user.update",
                &format!("user {} ({})", user.id, user.username),
            );
            if json {
                return output::print_json(out, &ProfileJson::from(&user));
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
            let users = crate::store::users::list(fx.db).await?;
            if json {
                let rows: Vec<ProfileJson> = users.iter().map(ProfileJson::from).collect();
                return output::print_json(out, &rows);
            }
            writeln!(
                out,
                "{:<36}  {:<32}  {:<20}  DISABLED",
                "ID", "USERNAME", "CREATED"
            )?;
            for u in users {
                writeln!(
                    out,
                    "{:<36}  {:<32}  {:<20}  {}",
                    u.id,
                    u.username,
                    output::time(u.created_at),
                    output::opt_time(u.disabled_at)
                )?;
            }
            Ok(())
        }
        UserCommand::Disable { user, json } => {
            let user = manage::users::find(&fx, &user).await?;
            let user = manage::users::disable(&fx, user).await?;
            if json {
                return output::print_json(out, &ProfileJson::from(&user));
            }
            writeln!(
                out,
                "disabled user {}: sessions ended, tokens and API keys refused",
                user.username
            )?;
            Ok(())
        }
        UserCommand::Enable { user, json } => {
            let user = manage::users::find(&fx, &user).await?;
            let user = manage::users::enable(&fx, user).await?;
            if json {
                return output::print_json(out, &ProfileJson::from(&user));
            }
            writeln!(out, "enabled user {}", user.username)?;
            Ok(())
        }
        UserCommand::SetPassword {
            user,
            password_stdin,
            json,
        } => {
            let user = manage::users::find(&fx, &user).await?;
            let password = read_password(password_stdin, input)?;
            manage::users::set_password(&fx, &user, password).await?;
            if json {
                return output::print_json(out, &ProfileJson::from(&user));
            }
            writeln!(
                out,
                "set the password of {}; their sessions ended and refresh tokens were revoked",
                user.username
            )?;
            Ok(())
        }
        UserCommand::Delete { user, json } => {
            let user = manage::users::find(&fx, &user).await?;
            let (id, username) = (user.id, user.username.clone());
            manage::users::delete(&fx, user).await?;
            if json {
                return output::print_json(
                    out,
                    &serde_json::json!({ "id": id, "username": username, "deleted": true }),
                );
            }
            writeln!(out, "deleted user {username} ({id})")?;
            Ok(())
        }
    }
}

fn read_password(from_stdin: bool, input: &mut dyn BufRead) -> anyhow::Result<String> {
    if from_stdin {
        read_password_line(input)
    } else {
        prompt_password()
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
