//! Usernames are unique regardless of case: `Alice` cannot sign up beside
//! `alice`. Names are stored as typed; the index is on their lowercase form,
//! which lookups use too. Usernames are ASCII, so SQL's `lower()` agrees
//! with Rust's `to_ascii_lowercase()` on both databases.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX idx_users_username_lower ON users (lower(username))",
            )
            .await
            .map_err(|e| {
                DbErr::Migration(format!(
                    "cannot make usernames case-insensitive ({e}); two users differ \
                     only in case: rename one, then migrate again"
                ))
            })?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX idx_users_username_lower")
            .await?;
        Ok(())
    }
}
