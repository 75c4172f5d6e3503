//! Browsers a user has signed in from, recognised by a long-lived random
//! cookie (stored here as its SHA-256), so that a lock on the account after
//! someone else's failed guesses does not keep the person out.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum KnownDevices {
    Table,
    TokenHash,
    UserId,
    CreatedAt,
    LastSeenAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(KnownDevices::Table)
                    .col(string(KnownDevices::TokenHash).primary_key())
                    .col(uuid(KnownDevices::UserId))
                    .col(timestamp_with_time_zone(KnownDevices::CreatedAt))
                    .col(timestamp_with_time_zone(KnownDevices::LastSeenAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_known_devices_user")
                            .from(KnownDevices::Table, KnownDevices::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_known_devices_user")
                    .table(KnownDevices::Table)
                    .col(KnownDevices::UserId)
                    .col(KnownDevices::LastSeenAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(KnownDevices::Table).to_owned())
            .await
    }
}
