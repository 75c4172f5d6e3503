//! Tollgate: an OAuth 2 authorization server guarding a blog API.

/// The blog resource API (poem-openapi), its docs explorer and errors.
pub mod api;
/// Who is calling the resource API: credentials to a `Principal`.
pub mod auth;
/// Back-Channel Logout: telling clients that a browser session ended.
pub mod backchannel;
/// A bounded time-to-live cache for hot, rarely changing rows.
pub mod cache;
/// The command line: serve, migrate and the management verbs.
pub mod cli;
/// A settable clock, so that tests can move time instead of sleeping.
pub mod clock;
/// Settings layered from defaults, `tollgate.toml`, `TOLLGATE_*` and flags.
pub mod config;
/// Connection limits and timeouts below HTTP.
pub mod connections;
/// Connecting to SQLite or PostgreSQL and migrating.
pub mod db;
/// The seeding done by `serve --demo`.
pub mod demo;
/// Validated newtypes for everything that comes from outside.
pub mod domain;
/// Deleting expired rows: the background task and `tollgate gc`.
pub mod housekeeping;
/// Operations shared by the CLI, `--demo` and test fixtures.
pub mod manage;
/// The Prometheus metrics the server keeps.
pub mod metrics;
/// The authorization server: authorize, login, consent, token and friends.
pub mod oauth;
/// Health, readiness and the metrics endpoint.
pub mod ops;

/// The origins of public clients that CORS lets in.
pub mod origins;
/// How instances on one database learn of each other's changes.
pub mod propagation;
/// Recent post reads, served from memory for a second.
pub mod read_cache;
/// Everything that touches secret material.
pub mod secrets;
/// Building the HTTP application and running it.
pub mod startup;
/// The shared application state handed to every handler.
pub mod state;
/// Queries, grouped by aggregate.
pub mod store;
/// Logging setup and the per-request log line.
pub mod telemetry;
/// Browser plumbing: cookies, sessions, page templates.
pub mod web;

pub use config::Settings;
pub use startup::Application;
