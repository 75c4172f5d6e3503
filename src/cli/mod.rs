//! The command line of the contract.

mod api_key;
mod client;
mod consent;
mod gc;
mod keys;
mod output;
mod report;
mod serve;
mod session;
mod user;

use std::io::{BufRead, Write};

use clap::{Parser, Subcommand};
use sea_orm::DatabaseConnection;

use crate::config::{Settings, SettingsArgs};
use crate::manage::Effects;

pub use report::report;

#[derive(Debug, Parser)]
#[command(
    name = "tollgate",
    version,
    about = "An OAuth 2 authorization server guarding a blog API"
)]
pub struct Cli {
    // Under their own heading, after each command's own options.
    #[command(
        flatten,
        next_help_heading = "Settings (also TOLLGATE_* and tollgate.toml)"
    )]
    pub settings: SettingsArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, then serve HTTP until SIGINT or SIGTERM
    Serve(serve::ServeArgs),
    /// Apply pending migrations and exit
    Migrate {
        /// Print one JSON object: {"applied": [migration names]}
        #[arg(long)]
        json: bool,
    },
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
    /// See and revoke what users allowed apps
    #[command(subcommand)]
    Consent(consent::ConsentCommand),
    /// See and end users' browser sessions
    #[command(subcommand)]
    Session(session::SessionCommand),
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
        Command::Migrate { json } => {
            let (db, applied) = crate::db::open_reporting(settings.database_url.secret()).await?;
            db.close().await?;
            if json {
                return output::print_json(out, &serde_json::json!({ "applied": applied }));
            }
            // Silent when there was nothing to do, so a script or a cron
            // job that runs it on every deploy prints only real changes.
            for name in &applied {
                writeln!(out, "applied migration {name}")?;
            }
            Ok(())
        }
        Command::Gc(args) => {
            let db = open(&settings).await?;
            gc::run(&db, &settings, args, out).await
        }
        Command::User(cmd) => {
            let db = open(&settings).await?;
            user::run(&Ctx::new(&db, &settings), cmd, input, out).await
        }
        Command::Client(cmd) => {
            let db = open(&settings).await?;
            client::run(&Ctx::new(&db, &settings), cmd, out).await
        }
        Command::ApiKey(cmd) => {
            let db = open(&settings).await?;
            api_key::run(&Ctx::new(&db, &settings), cmd, out).await
        }
        Command::Keys(cmd) => {
            let db = open(&settings).await?;
            keys::run(&Ctx::new(&db, &settings), cmd, out).await
        }
        Command::Consent(cmd) => {
            let db = open(&settings).await?;
            consent::run(&Ctx::new(&db, &settings), cmd, out).await
        }
        Command::Session(cmd) => {
            let db = open(&settings).await?;
            session::run(&Ctx::new(&db, &settings), cmd, out).await
        }
    }
}

/// What a management command works with.
struct Ctx<'a> {
    db: &'a DatabaseConnection,
    settings: &'a Settings,
    now: chrono::DateTime<chrono::Utc>,
}

impl<'a> Ctx<'a> {
    fn new(db: &'a DatabaseConnection, settings: &'a Settings) -> Self {
        Self {
            db,
            settings,
            now: crate::clock::Clock::default().now(),
        }
    }

    /// The command line's effects reach running servers through the
    /// database (see `manage::Effects::offline`).
    fn effects(&self) -> Effects<'a> {
        Effects::offline(self.db, self.settings, self.now)
    }
}

/// Connects and migrates, so that management commands work on a fresh database.
async fn open(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    Ok(crate::db::open(settings.database_url.secret()).await?)
}
