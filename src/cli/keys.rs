use std::io::Write;

use clap::Subcommand;
use sea_orm::DatabaseConnection;

use crate::clock::Clock;
use crate::metrics::SecurityEvent;
use crate::secrets::KeyEncryptionKey;
use crate::secrets::signing_keys;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a new signing key of every kind (ES256, RS256) current; old
    /// public keys stay in the JWKS until the tokens they signed have expired
    Rotate,
}

pub async fn run(
    db: &DatabaseConnection,
    kek: Option<&KeyEncryptionKey>,
    cmd: KeysCommand,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match cmd {
        KeysCommand::Rotate => {
            let keys = signing_keys::rotate(db, kek, Clock::default().now()).await?;
            for key in &keys {
                // A security event; this process has no metrics to count it in.
                tracing::warn!(
                    event = SecurityEvent::KeyRotated.as_str(),
                    kid = %key.kid,
                    algorithm = %key.algorithm,
                    "signing key rotated"
                );
                writeln!(
                    out,
                    "new signing key {} ({}) is current",
                    key.kid, key.algorithm
                )?;
            }
            writeln!(out, "running servers pick them up within a minute")?;
            Ok(())
        }
    }
}
