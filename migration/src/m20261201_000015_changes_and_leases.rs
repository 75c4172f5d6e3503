//! Several instances on one database: a log of changes that invalidate
//! what instances hold in memory (clients, consents, signing keys), read
//! past a cursor as the denylist is; and leases, so that cluster-wide work
//! such as housekeeping runs on one instance per interval.
//!
//! On PostgreSQL, triggers announce every committed change and revocation
//! with `NOTIFY tollgate`, so that instances listening hear of it at once
//! rather than at their next poll. A trigger fires whoever writes: a
//! server, the command line, or an older version of either.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Changes {
    Table,
    Seq,
    Kind,
    Subject,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Leases {
    Table,
    Name,
    Holder,
    TakenAt,
}

const CREATED_INDEX: &str = "idx_changes_created_at";

/// Statement-level triggers: one notification per writing statement, and
/// PostgreSQL folds identical ones within a transaction.
const NOTIFY_UP: &str = r"
CREATE OR REPLACE FUNCTION tollgate_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('tollgate', TG_TABLE_NAME);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER changes_notify AFTER INSERT ON changes
    FOR EACH STATEMENT EXECUTE FUNCTION tollgate_notify();
CREATE TRIGGER token_revocations_notify AFTER INSERT OR UPDATE ON token_revocations
    FOR EACH STATEMENT EXECUTE FUNCTION tollgate_notify();
";

const NOTIFY_DOWN: &str = r"
DROP TRIGGER IF EXISTS token_revocations_notify ON token_revocations;
DROP TRIGGER IF EXISTS changes_notify ON changes;
DROP FUNCTION IF EXISTS tollgate_notify();
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Changes::Table)
                    .col(big_integer(Changes::Seq).auto_increment().primary_key())
                    .col(string(Changes::Kind))
                    .col(string(Changes::Subject))
                    .col(timestamp_with_time_zone(Changes::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(CREATED_INDEX)
                    .table(Changes::Table)
                    .col(Changes::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Leases::Table)
                    .col(string(Leases::Name).primary_key())
                    .col(string(Leases::Holder))
                    .col(timestamp_with_time_zone(Leases::TakenAt))
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(NOTIFY_UP)
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(NOTIFY_DOWN)
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Leases::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Changes::Table).to_owned())
            .await
    }
}
