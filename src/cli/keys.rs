use std::io::Write;

use clap::Subcommand;
use serde::Serialize;

use super::Ctx;
use super::output;
use crate::metrics::SecurityEvent;
use crate::secrets::signing_keys;
use crate::store;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a new signing key of every kind (ES256, RS256) current; old
    /// public keys stay in the JWKS until the tokens they signed have expired
    Rotate {
        /// Print a JSON array of the new keys: [{"kid", "algorithm"}]
        #[arg(long)]
        json: bool,
    },
    /// List the signing keys, newest first (never their private halves)
    List {
        /// Print a JSON array of keys
        #[arg(long)]
        json: bool,
    },
}

#[derive(Serialize)]
struct KeyJson<'a> {
    kid: &'a str,
    algorithm: &'a str,
    created_at: String,
    retired_at: Option<String>,
    /// Signs new tokens (the newest unretired key of its algorithm).
    current: bool,
}

pub async fn run(ctx: &Ctx<'_>, cmd: KeysCommand, out: &mut dyn Write) -> anyhow::Result<()> {
    let fx = ctx.effects();
    match cmd {
        KeysCommand::Rotate { json } => {
            let kek = ctx.settings.key_encryption_key.as_ref();
            let keys = signing_keys::rotate(fx.db, kek, fx.now).await?;
            for key in &keys {
                fx.audit(
                    SecurityEvent::KeyRotated,
                    "keys.rotate",
                    &format!("signing key {} ({})", key.kid, key.algorithm),
                );
            }
            if json {
                let rows: Vec<_> = keys
                    .iter()
                    .map(|k| serde_json::json!({ "kid": k.kid, "algorithm": k.algorithm }))
                    .collect();
                return output::print_json(out, &rows);
            }
            for key in &keys {
                writeln!(
                    out,
                    "new signing key {} ({}) is current",
                    key.kid, key.algorithm
                )?;
            }
            writeln!(out, "running servers pick them up within a minute")?;
            Ok(())
        }
        KeysCommand::List { json } => {
            let keys = store::signing_keys::all_newest_first(fx.db).await?;
            let mut seen_current = Vec::new();
            let rows: Vec<KeyJson> = keys
                .iter()
                .map(|k| {
                    let current = k.retired_at.is_none() && !seen_current.contains(&k.algorithm);
                    if current {
                        seen_current.push(k.algorithm.clone());
                    }
                    KeyJson {
                        kid: &k.kid,
                        algorithm: &k.algorithm,
                        created_at: output::time(k.created_at),
                        retired_at: k.retired_at.map(output::time),
                        current,
                    }
                })
                .collect();
            if json {
                return output::print_json(out, &rows);
            }
            writeln!(
                out,
                "{:<44}  {:<6}  {:<20}  {:<20}  CURRENT",
                "KID", "ALG", "CREATED", "RETIRED"
            )?;
            for k in rows {
                writeln!(
                    out,
                    "{:<44}  {:<6}  {:<20}  {:<20}  {}",
                    k.kid,
                    k.algorithm,
                    k.created_at,
                    k.retired_at.as_deref().unwrap_or("-"),
                    if k.current { "yes" } else { "" }
                )?;
            }
            Ok(())
        }
    }
}
