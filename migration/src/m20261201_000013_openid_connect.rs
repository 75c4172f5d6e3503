//! OpenID Connect: users' profile claims, clients' ID-token and logout
//! settings, the browser session's public id (`sid`) and sign-in time, the
//! clients each session signed in to, and what a code or refresh token
//! needs to mint an ID token (`nonce`, `auth_time`, `sid`).
//!
//! SQLite adds one column per ALTER TABLE, and only with a constant
//! default; new NOT NULL timestamps are therefore added nullable and
//! filled from `created_at` (every row written later sets them).

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Name,
    Email,
    EmailVerified,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
    IdTokenAlg,
    PostLogoutRedirectUris,
    BackchannelLogoutUri,
}

#[derive(DeriveIden)]
enum BrowserSessions {
    Table,
    IdHash,
    Sid,
    AuthTime,
}

#[derive(DeriveIden)]
enum SessionClients {
    Table,
    SessionHash,
    ClientId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuthorizationCodes {
    Table,
    Nonce,
    AuthTime,
    Sid,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    AuthTime,
    Sid,
}

const SID_INDEX: &str = "idx_browser_sessions_sid";

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
        add(manager, Users::Table, string_null(Users::Name)).await?;
        add(manager, Users::Table, string_null(Users::Email)).await?;
        add(
            manager,
            Users::Table,
            boolean(Users::EmailVerified).default(false),
        )
        .await?;
        add(
            manager,
            Users::Table,
            timestamp_with_time_zone_null(Users::UpdatedAt),
        )
        .await?;

        add(
            manager,
            Clients::Table,
            string(Clients::IdTokenAlg).default("RS256"),
        )
        .await?;
        add(
            manager,
            Clients::Table,
            string(Clients::PostLogoutRedirectUris).default(""),
        )
        .await?;
        add(
            manager,
            Clients::Table,
            string_null(Clients::BackchannelLogoutUri),
        )
        .await?;

        add(
            manager,
            BrowserSessions::Table,
            string_null(BrowserSessions::Sid),
        )
        .await?;
        add(
            manager,
            BrowserSessions::Table,
            timestamp_with_time_zone_null(BrowserSessions::AuthTime),
        )
        .await?;

        add(
            manager,
            AuthorizationCodes::Table,
            string_null(AuthorizationCodes::Nonce),
        )
        .await?;
        add(
            manager,
            AuthorizationCodes::Table,
            timestamp_with_time_zone_null(AuthorizationCodes::AuthTime),
        )
        .await?;
        add(
            manager,
            AuthorizationCodes::Table,
            string_null(AuthorizationCodes::Sid),
        )
        .await?;
        add(
            manager,
            RefreshTokens::Table,
            timestamp_with_time_zone_null(RefreshTokens::AuthTime),
        )
        .await?;
        add(
            manager,
            RefreshTokens::Table,
            string_null(RefreshTokens::Sid),
        )
        .await?;

        // Sessions from before get a random sid; sign-in times fall back
        // to when the row was made.
        let random_sid = match manager.get_database_backend() {
            DbBackend::Postgres => "md5(random()::text || clock_timestamp()::text || id_hash)",
            _ => "lower(hex(randomblob(16)))",
        };
        let db = manager.get_connection();
        db.execute_unprepared(&format!(
            "UPDATE browser_sessions SET sid = {random_sid}, auth_time = created_at"
        ))
        .await?;
        db.execute_unprepared("UPDATE users SET updated_at = created_at")
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(SID_INDEX)
                    .table(BrowserSessions::Table)
                    .col(BrowserSessions::Sid)
                    .unique()
                    .to_owned(),
            )
            .await?;

        // The relying parties a session signed in to: told by back-channel
        // logout when it ends. Goes with the session or the client.
        manager
            .create_table(
                Table::create()
                    .table(SessionClients::Table)
                    .col(string(SessionClients::SessionHash))
                    .col(string(SessionClients::ClientId))
                    .col(timestamp_with_time_zone(SessionClients::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(SessionClients::SessionHash)
                            .col(SessionClients::ClientId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_session_clients_session")
                            .from(SessionClients::Table, SessionClients::SessionHash)
                            .to(BrowserSessions::Table, BrowserSessions::IdHash)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_session_clients_client")
                            .from(SessionClients::Table, SessionClients::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SessionClients::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(SID_INDEX)
                    .table(BrowserSessions::Table)
                    .to_owned(),
            )
            .await?;
        drop(manager, RefreshTokens::Table, RefreshTokens::Sid).await?;
        drop(manager, RefreshTokens::Table, RefreshTokens::AuthTime).await?;
        drop(manager, AuthorizationCodes::Table, AuthorizationCodes::Sid).await?;
        drop(
            manager,
            AuthorizationCodes::Table,
            AuthorizationCodes::AuthTime,
        )
        .await?;
        drop(
            manager,
            AuthorizationCodes::Table,
            AuthorizationCodes::Nonce,
        )
        .await?;
        drop(manager, BrowserSessions::Table, BrowserSessions::AuthTime).await?;
        drop(manager, BrowserSessions::Table, BrowserSessions::Sid).await?;
        drop(manager, Clients::Table, Clients::BackchannelLogoutUri).await?;
        drop(manager, Clients::Table, Clients::PostLogoutRedirectUris).await?;
        drop(manager, Clients::Table, Clients::IdTokenAlg).await?;
        drop(manager, Users::Table, Users::UpdatedAt).await?;
        drop(manager, Users::Table, Users::EmailVerified).await?;
        drop(manager, Users::Table, Users::Email).await?;
        drop(manager, Users::Table, Users::Name).await
    }
}
