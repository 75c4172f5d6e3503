//! Everything the authorization server keeps: signing keys, codes, refresh
//! tokens, consents, browser sessions and the access-token denylist.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Kid,
    Algorithm,
    PrivateKey,
    PublicKey,
    CreatedAt,
    RetiredAt,
}

#[derive(DeriveIden)]
enum AuthorizationCodes {
    Table,
    CodeHash,
    GrantId,
    ClientId,
    UserId,
    RedirectUri,
    CodeChallenge,
    Scopes,
    CreatedAt,
    ExpiresAt,
    RedeemedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    TokenHash,
    GrantId,
    ClientId,
    UserId,
    Scopes,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Consents {
    Table,
    UserId,
    ClientId,
    Scopes,
    GrantedAt,
}

#[derive(DeriveIden)]
enum BrowserSessions {
    Table,
    IdHash,
    UserId,
    CsrfToken,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum TokenRevocations {
    Table,
    Seq,
    Target,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
}

fn fk_user<T: IntoIden + 'static>(table: T, col: T, name: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, col)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn fk_client<T: IntoIden + 'static>(table: T, col: T, name: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, col)
        .to(Clients::Table, Clients::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .col(string(SigningKeys::Kid).primary_key())
                    .col(string(SigningKeys::Algorithm))
                    .col(text(SigningKeys::PrivateKey))
                    .col(text(SigningKeys::PublicKey))
                    .col(timestamp_with_time_zone(SigningKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(SigningKeys::RetiredAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuthorizationCodes::Table)
                    .col(string(AuthorizationCodes::CodeHash).primary_key())
                    .col(uuid(AuthorizationCodes::GrantId))
                    .col(string(AuthorizationCodes::ClientId))
                    .col(uuid(AuthorizationCodes::UserId))
                    .col(text_null(AuthorizationCodes::RedirectUri))
                    .col(string_null(AuthorizationCodes::CodeChallenge))
                    .col(text(AuthorizationCodes::Scopes))
                    .col(timestamp_with_time_zone(AuthorizationCodes::CreatedAt))
                    .col(timestamp_with_time_zone(AuthorizationCodes::ExpiresAt))
                    .col(timestamp_with_time_zone_null(
                        AuthorizationCodes::RedeemedAt,
                    ))
                    .foreign_key(&mut fk_user(
                        AuthorizationCodes::Table,
                        AuthorizationCodes::UserId,
                        "fk_codes_user",
                    ))
                    .foreign_key(&mut fk_client(
                        AuthorizationCodes::Table,
                        AuthorizationCodes::ClientId,
                        "fk_codes_client",
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(string(RefreshTokens::TokenHash).primary_key())
                    .col(uuid(RefreshTokens::GrantId))
                    .col(string(RefreshTokens::ClientId))
                    .col(uuid_null(RefreshTokens::UserId))
                    .col(text(RefreshTokens::Scopes))
                    .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                    .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::UsedAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::RevokedAt))
                    .foreign_key(&mut fk_user(
                        RefreshTokens::Table,
                        RefreshTokens::UserId,
                        "fk_refresh_user",
                    ))
                    .foreign_key(&mut fk_client(
                        RefreshTokens::Table,
                        RefreshTokens::ClientId,
                        "fk_refresh_client",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_tokens_grant")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::GrantId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Consents::Table)
                    .col(uuid(Consents::UserId))
                    .col(string(Consents::ClientId))
                    .col(text(Consents::Scopes))
                    .col(timestamp_with_time_zone(Consents::GrantedAt))
                    .primary_key(
                        Index::create()
                            .col(Consents::UserId)
                            .col(Consents::ClientId),
                    )
                    .foreign_key(&mut fk_user(
                        Consents::Table,
                        Consents::UserId,
                        "fk_consents_user",
                    ))
                    .foreign_key(&mut fk_client(
                        Consents::Table,
                        Consents::ClientId,
                        "fk_consents_client",
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(BrowserSessions::Table)
                    .col(string(BrowserSessions::IdHash).primary_key())
                    .col(uuid(BrowserSessions::UserId))
                    .col(string(BrowserSessions::CsrfToken))
                    .col(timestamp_with_time_zone(BrowserSessions::CreatedAt))
                    .col(timestamp_with_time_zone(BrowserSessions::ExpiresAt))
                    .foreign_key(&mut fk_user(
                        BrowserSessions::Table,
                        BrowserSessions::UserId,
                        "fk_sessions_user",
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TokenRevocations::Table)
                    // Instances poll for rows past the last `seq` they saw:
                    // a counter, unlike a timestamp, never ties or goes back.
                    .col(big_pk_auto(TokenRevocations::Seq))
                    .col(string(TokenRevocations::Target))
                    .col(timestamp_with_time_zone(TokenRevocations::CreatedAt))
                    .col(timestamp_with_time_zone(TokenRevocations::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_token_revocations_target")
                    .table(TokenRevocations::Table)
                    .col(TokenRevocations::Target)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            TokenRevocations::Table.into_iden(),
            BrowserSessions::Table.into_iden(),
            Consents::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            AuthorizationCodes::Table.into_iden(),
            SigningKeys::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
