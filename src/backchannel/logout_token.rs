//! The Logout Token of OpenID Connect Back-Channel Logout 1.0 §2.4.

use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::{Header, encode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::secrets::signing_keys::LoadedKey;

/// §2.4: "Logout Tokens SHOULD be explicitly typed", so that one is never
/// taken for an ID token (whose `typ` is `JWT`).
pub const TYP: &str = "logout+jwt";

/// §2.4: the one member of `events` that makes a JWT a Logout Token.
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// Long enough for every retry of a delivery, short enough that a
/// captured token soon stops mattering (§2.6 asks the client to check
/// `iat`; ours leaves it a short window).
pub const LIFETIME: TimeDelta = TimeDelta::minutes(2);

/// §2.4 claims. No `nonce`: "A Logout Token MUST NOT contain a nonce
/// Claim", so that it can never pass as an ID Token.
#[derive(Debug, Serialize, Deserialize)]
pub struct LogoutTokenClaims {
    pub iss: String,
    /// The client's id, as in its ID tokens.
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub events: Value,
    /// The ended session's public id, the `sid` of its ID tokens.
    pub sid: String,
    /// The user's id, the `sub` of its ID tokens.
    pub sub: String,
}

/// What a session's end says to one client.
pub struct LogoutNotice<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub sid: &'a str,
    pub sub: &'a str,
}

/// Signs the Logout Token for `notice` with `key` (the current key of the
/// client's ID token algorithm, so it verifies as the client's ID tokens
/// do), with a fresh `jti`.
pub fn sign(
    key: &LoadedKey,
    notice: &LogoutNotice<'_>,
    now: DateTime<Utc>,
) -> Result<String, jsonwebtoken::errors::Error> {
    let claims = LogoutTokenClaims {
        iss: notice.issuer.to_owned(),
        aud: notice.client_id.to_owned(),
        iat: now.timestamp(),
        exp: (now + LIFETIME).timestamp(),
        jti: Uuid::new_v4().to_string(),
        events: json!({ EVENT: {} }),
        sid: notice.sid.to_owned(),
        sub: notice.sub.to_owned(),
    };
    let mut header = Header::new(key.algorithm);
    header.typ = Some(TYP.to_owned());
    header.kid = Some(key.kid.clone());
    encode(&header, &claims, &key.encoding)
}
