//! The exact JSON objects of the contract, and human-readable timestamps.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::domain::{Client, RedirectUri};

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
    pub disabled: bool,
    pub disabled_at: Option<String>,
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
            disabled: u.disabled_at.is_some(),
            disabled_at: u.disabled_at.map(time),
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

/// Every setting of a client, never its secret: `client get`, `list`, `update`.
#[derive(Serialize)]
pub struct ClientDetailJson<'a> {
    pub client_id: &'a str,
    pub name: &'a str,
    pub public: bool,
    pub first_party: bool,
    pub introspect: bool,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub grants: Vec<String>,
    pub id_token_alg: &'a str,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<&'a str>,
    pub created_at: String,
}

impl<'a> From<&'a Client> for ClientDetailJson<'a> {
    fn from(c: &'a Client) -> Self {
        Self {
            client_id: &c.id,
            name: &c.name,
            public: c.is_public(),
            first_party: c.first_party,
            introspect: c.can_introspect,
            redirect_uris: uris(&c.redirect_uris),
            scopes: c.scopes.to_vec(),
            grants: c.grants.to_vec(),
            id_token_alg: c.id_token_alg.as_str(),
            post_logout_redirect_uris: uris(&c.post_logout_redirect_uris),
            backchannel_logout_uri: c.backchannel_logout_uri.as_ref().map(|u| u.as_str()),
            created_at: time(c.created_at),
        }
    }
}

pub fn uris(uris: &[RedirectUri]) -> Vec<String> {
    uris.iter().map(|u| u.as_str().to_owned()).collect()
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
