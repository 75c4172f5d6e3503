//! The one integration-test binary (one link step on a 2-core machine).
//! Every test gets a fresh database: a temp SQLite file, or a throwaway
//! PostgreSQL database when `TOLLGATE_TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod helpers;

mod access_tokens;
mod account;
mod admin;
mod api_keys;
mod authorize;
mod blog_api;
mod checkpoint;
mod cli;
mod cli_manage;
mod client_auth;
mod client_credentials;
mod cluster;
mod concurrent_start;
mod connections;
mod consent;
mod cors;
mod demo_binary;
mod discovery;
mod errors_api;
mod errors_cli;
mod explorer;
mod group_commit;
mod headers;
mod housekeeping;
mod inline_reads;
mod input;
mod introspect;
mod keys;
mod keys_at_rest;
mod layout;
mod login;
mod logout_revokes;
mod metrics;
mod oidc_authorize;
mod oidc_discovery;
mod oidc_grants;
mod oidc_logout;
mod oidc_relying_party;
mod oidc_sign_in_out;
mod oidc_tokens;
mod oidc_userinfo;
mod ops;
mod password_burst;
mod password_grant;
mod real_clients;
mod real_port;
mod refresh;
mod request_log;
mod revocation_sync;
mod revoke;
mod settings;
mod signing_key_kinds;
mod throttle;
mod token;
mod two_instances;
