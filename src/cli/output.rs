//! The exact JSON objects of the contract, and human-readable timestamps.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

#[derive(Serialize)]
pub struct UserJson<'a> {
    pub id: String,
    pub username: &'a str,
}

/// A user with the profile claims: `user update --json`, `user list --json`.
#[derive(Serialize)]
pub struct ProfileJson<'a> {
    pub id: String,
    pub username: &'a str,
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub email_verified: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl<'a> From<&'a entity::user::Model> for ProfileJson<'a> {
    fn from(u: &'a entity::user::Model) -> Self {
        Self {
            id: u.id.to_string(),
            username: &u.username,
            name: u.name.as_deref(),
            email: u.email.as_deref(),
            email_verified: u.email_verified,
            created_at: time(u.created_at),
            updated_at: time(u.updated_at),
        }
    }
}

#[derive(Serialize)]
pub struct ClientJson<'a> {
    pub client_id: &'a str,
    pub client_secret: Option<&'a str>,
    pub redirect_uris: &'a [String],
    pub scopes: Vec<String>,
    pub grants: Vec<String>,
}

#[derive(Serialize)]
pub struct ApiKeyJson<'a> {
    pub id: String,
    pub key: &'a str,
    pub scopes: Vec<String>,
    pub expires_at: Option<String>,
}

pub fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn opt_time(t: Option<DateTime<Utc>>) -> String {
    t.map(time).unwrap_or_else(|| "-".to_owned())
}

pub fn print_json(out: &mut dyn std::io::Write, value: &impl Serialize) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}
