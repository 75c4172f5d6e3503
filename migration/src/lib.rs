//! Schema migrations. Identifiers are declared inside each file so that a
//! later change to the entities never rewrites history.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_create_users;
mod m20261125_000002_create_clients;
mod m20261125_000003_create_api_keys;
mod m20261125_000004_create_posts;
mod m20261125_000005_create_oauth_tables;
mod m20261201_000006_case_insensitive_usernames;
mod m20261201_000007_create_login_throttle;
mod m20261201_000008_housekeeping_indexes;
mod m20261201_000010_client_introspect;
mod m20261201_000011_session_grants;
mod m20261201_000012_create_known_devices;
mod m20261201_000013_openid_connect;
mod m20261201_000014_account_admin;
mod m20261201_000015_changes_and_leases;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_users::Migration),
            Box::new(m20261125_000002_create_clients::Migration),
            Box::new(m20261125_000003_create_api_keys::Migration),
            Box::new(m20261125_000004_create_posts::Migration),
            Box::new(m20261125_000005_create_oauth_tables::Migration),
            Box::new(m20261201_000006_case_insensitive_usernames::Migration),
            Box::new(m20261201_000007_create_login_throttle::Migration),
            Box::new(m20261201_000008_housekeeping_indexes::Migration),
            Box::new(m20261201_000010_client_introspect::Migration),
            Box::new(m20261201_000011_session_grants::Migration),
            Box::new(m20261201_000012_create_known_devices::Migration),
            Box::new(m20261201_000013_openid_connect::Migration),
            Box::new(m20261201_000014_account_admin::Migration),
            Box::new(m20261201_000015_changes_and_leases::Migration),
        ]
    }
}
