use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Posts {
    Table,
    Seq,
    Id,
    Title,
    Body,
    Published,
    Author,
    AuthorSub,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Posts::Table)
                    // `seq` is the keyset for pagination: strictly increasing,
                    // unlike timestamps, which can tie.
                    .col(big_pk_auto(Posts::Seq))
                    .col(uuid_uniq(Posts::Id))
                    .col(string(Posts::Title))
                    .col(text(Posts::Body))
                    .col(boolean(Posts::Published))
                    .col(string(Posts::Author))
                    .col(string(Posts::AuthorSub))
                    .col(timestamp_with_time_zone(Posts::CreatedAt))
                    .col(timestamp_with_time_zone(Posts::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Posts::Table).to_owned())
            .await
    }
}
