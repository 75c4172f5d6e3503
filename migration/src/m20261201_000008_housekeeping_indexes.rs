//! What housekeeping and the revocation poll need: indexes on the expiry
//! columns the clean-up deletes by, one on `token_revocations.created_at`
//! so the once-a-second poll (`seq > ? OR created_at > ?`) searches
//! instead of scanning, and a unique revocation target, so revoking the
//! same grant again (a replayed code) adds no row.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const EXPIRY_INDEXES: [(&str, &str); 4] = [
    ("idx_authorization_codes_expires_at", "authorization_codes"),
    ("idx_browser_sessions_expires_at", "browser_sessions"),
    ("idx_refresh_tokens_expires_at", "refresh_tokens"),
    ("idx_token_revocations_expires_at", "token_revocations"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, table) in EXPIRY_INDEXES {
            db.execute_unprepared(&format!("CREATE INDEX {name} ON {table} (expires_at)"))
                .await?;
        }
        db.execute_unprepared(
            "CREATE INDEX idx_token_revocations_created_at ON token_revocations (created_at)",
        )
        .await?;
        // Duplicates from before: keep the first row of each target, with
        // the latest expiry any of them had.
        db.execute_unprepared(
            "UPDATE token_revocations SET expires_at = \
               (SELECT MAX(d.expires_at) FROM token_revocations d \
                 WHERE d.target = token_revocations.target) \
             WHERE target IN \
               (SELECT target FROM token_revocations GROUP BY target HAVING COUNT(*) > 1)",
        )
        .await?;
        db.execute_unprepared(
            "DELETE FROM token_revocations WHERE seq NOT IN \
               (SELECT MIN(seq) FROM token_revocations GROUP BY target)",
        )
        .await?;
        db.execute_unprepared("DROP INDEX idx_token_revocations_target")
            .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_token_revocations_target ON token_revocations (target)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX idx_token_revocations_target")
            .await?;
        db.execute_unprepared(
            "CREATE INDEX idx_token_revocations_target ON token_revocations (target)",
        )
        .await?;
        db.execute_unprepared("DROP INDEX idx_token_revocations_created_at")
            .await?;
        for (name, _) in EXPIRY_INDEXES {
            db.execute_unprepared(&format!("DROP INDEX {name}")).await?;
        }
        Ok(())
    }
}
