//! Self-service and administration: a user can be disabled; a browser
//! session records the device it runs on and when it was last seen.
//! Indexes serve the lists of
//! a user's sessions and grants, and revoking a user's or an app's grants.
//!
//! As in the OpenID Connect migration, a new NOT NULL timestamp is added
//! nullable and filled from `created_at`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    DisabledAt,
}

#[derive(DeriveIden)]
enum BrowserSessions {
    Table,
    UserId,
    UserAgent,
    LastSeenAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    UserId,
    ClientId,
}

#[derive(DeriveIden)]
enum AuthorizationCodes {
    Table,
    UserId,
}

const INDEXES: [&str; 3] = [
    "idx_browser_sessions_user",
    "idx_refresh_tokens_user_client",
    "idx_authorization_codes_user",
];

async fn add(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    col: impl Into<ColumnDef>,
) -> Result<(), DbErr> {
    let mut col = col.into();
    manager
        .alter_table(Table::alter().table(table).add_column(&mut col).to_owned())
        .await
}

async fn drop(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    col: impl IntoIden,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).drop_column(col).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add(
            manager,
            Users::Table,
            timestamp_with_time_zone_null(Users::DisabledAt),
        )
        .await?;
        add(
            manager,
            BrowserSessions::Table,
            string_null(BrowserSessions::UserAgent),
        )
        .await?;
        add(
            manager,
            BrowserSessions::Table,
            timestamp_with_time_zone_null(BrowserSessions::LastSeenAt),
        )
        .await?;
        let db = manager.get_connection();
        db.execute_unprepared("UPDATE browser_sessions SET last_seen_at = created_at")
            .await?;

        let [sessions, refresh, codes] = INDEXES;
        manager
            .create_index(
                Index::create()
                    .name(sessions)
                    .table(BrowserSessions::Table)
                    .col(BrowserSessions::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(refresh)
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::UserId)
                    .col(RefreshTokens::ClientId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(codes)
                    .table(AuthorizationCodes::Table)
                    .col(AuthorizationCodes::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in INDEXES {
            manager
                .drop_index(Index::drop().name(name).to_owned())
                .await?;
        }
        drop(manager, BrowserSessions::Table, BrowserSessions::LastSeenAt).await?;
        drop(manager, BrowserSessions::Table, BrowserSessions::UserAgent).await?;
        drop(manager, Users::Table, Users::DisabledAt).await
    }
}
