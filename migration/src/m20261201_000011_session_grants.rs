//! Which browser session a grant was made under, so that ending the
//! session revokes its grants (RFC 9700 §4.14.2). Nullable: grants from
//! the password and client-credentials grants have no session, and no
//! foreign key, since an expired session is deleted while its grants live
//! on.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuthorizationCodes {
    Table,
    SessionHash,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    SessionHash,
}

const CODES_INDEX: &str = "idx_authorization_codes_session_hash";
const REFRESH_INDEX: &str = "idx_refresh_tokens_session_hash";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(AuthorizationCodes::Table)
                    .add_column(string_null(AuthorizationCodes::SessionHash))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokens::Table)
                    .add_column(string_null(RefreshTokens::SessionHash))
                    .to_owned(),
            )
            .await?;
        // Logout finds a session's rows by these.
        manager
            .create_index(
                Index::create()
                    .name(CODES_INDEX)
                    .table(AuthorizationCodes::Table)
                    .col(AuthorizationCodes::SessionHash)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(REFRESH_INDEX)
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::SessionHash)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(REFRESH_INDEX)
                    .table(RefreshTokens::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(CODES_INDEX)
                    .table(AuthorizationCodes::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokens::Table)
                    .drop_column(RefreshTokens::SessionHash)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuthorizationCodes::Table)
                    .drop_column(AuthorizationCodes::SessionHash)
                    .to_owned(),
            )
            .await
    }
}
