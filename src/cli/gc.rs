use std::io::Write;

use sea_orm::DatabaseConnection;
use serde::Serialize;

use super::output;
use crate::clock::Clock;
use crate::config::Settings;
use crate::housekeeping::{self, Deleted, Outcome};

#[derive(Debug, clap::Args)]
pub struct GcArgs {
    /// Print one JSON object: {"skipped": bool, "deleted": {table: rows}}
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct GcJson {
    skipped: bool,
    deleted: Deleted,
}

/// `tollgate gc`: one housekeeping run, now.
pub async fn run(
    db: &DatabaseConnection,
    settings: &Settings,
    args: GcArgs,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let outcome = housekeeping::run_once(db, settings, Clock::default().now()).await?;
    let (skipped, deleted) = match outcome {
        Outcome::Ran(deleted) => (false, deleted),
        Outcome::Skipped => (true, Deleted::default()),
    };
    if args.json {
        return output::print_json(out, &GcJson { skipped, deleted });
    }
    if skipped {
        writeln!(
            out,
            "another instance is running housekeeping; nothing was deleted"
        )?;
        return Ok(());
    }
    for (table, rows) in deleted.by_table() {
        writeln!(out, "{table}: {rows} deleted")?;
    }
    Ok(())
}
