use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
    Name,
    SecretHash,
    RedirectUris,
    Scopes,
    Grants,
    IsPublic,
    FirstParty,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Clients::Table)
                    .col(string(Clients::Id).primary_key())
                    .col(string(Clients::Name))
                    .col(string_null(Clients::SecretHash))
                    .col(text(Clients::RedirectUris))
                    .col(text(Clients::Scopes))
                    .col(text(Clients::Grants))
                    .col(boolean(Clients::IsPublic))
                    .col(boolean(Clients::FirstParty))
                    .col(timestamp_with_time_zone(Clients::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Clients::Table).to_owned())
            .await
    }
}
