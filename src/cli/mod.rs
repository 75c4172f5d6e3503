//! The command line of the contract.

mod api_key;
mod client;
mod gc;
mod keys;
mod output;
mod report;
mod serve;
mod user;

use std::io::{BufRead, Write};

use clap::{Parser, Subcommand};
use sea_orm::DatabaseConnection;

use crate::config::{Settings, SettingsArgs};

pub use report::report;

#[derive(Debug, Parser)]
#[command(
    name = "tollgate",
    version,
    about = "An OAuth 2 authorization server guarding a blog API"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, then serve HTTP until SIGINT or SIGTERM
    Serve(serve::ServeArgs),
    /// Apply pending migrations and exit
    Migrate,
    /// Manage users
    #[command(subcommand)]
    User(user::UserCommand),
    /// Manage OAuth clients
    #[command(subcommand)]
    Client(client::ClientCommand),
    /// Manage static API keys
    #[command(subcommand, name = "api-key")]
    ApiKey(api_key::ApiKeyCommand),
    /// Manage the JWT signing keys
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Delete expired codes, sessions, refresh tokens and revocations, and
    /// erase retired keys' private halves (servers do it every gc_interval)
    Gc(gc::GcArgs),
}

/// Runs a parsed command. `input` is where `--password-stdin` reads from
/// and `out` where results go, so tests can drive it in-process.
pub async fn run(cli: Cli, input: &mut dyn BufRead, out: &mut dyn Write) -> anyhow::Result<()> {
    let settings = Settings::load(&cli.settings, |k| std::env::var(k).ok())?;
    match cli.command {
        Command::Serve(args) => serve::run(settings, args, out).await,
        Command::Migrate => {
            let (db, applied) = crate::db::open_reporting(settings.database_url.secret()).await?;
            // Silent when there was nothing to do, so a script or a cron
            // job that runs it on every deploy prints only real changes.
            for name in &applied {
                writeln!(out, "applied migration {name}")?;
            }
            db.close().await?;
            Ok(())
        }
        Command::User(cmd) => {
            let db = open(&settings).await?;
            user::run(&db, cmd, input, out).await
        }
        Command::Client(cmd) => {
            let db = open(&settings).await?;
            client::run(&db, cmd, out).await
        }
        Command::ApiKey(cmd) => {
            let db = open(&settings).await?;
            api_key::run(&db, cmd, out).await
        }
        Command::Keys(cmd) => {
            let db = open(&settings).await?;
            keys::run(&db, settings.key_encryption_key.as_ref(), cmd, out).await
        }
        Command::Gc(args) => {
            let db = open(&settings).await?;
            gc::run(&db, &settings, args, out).await
        }
    }
}

/// Connects and migrates, so that management commands work on a fresh database.
async fn open(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    Ok(crate::db::open(settings.database_url.secret()).await?)
}
