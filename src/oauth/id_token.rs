//! OpenID Connect ID tokens (OIDC Core §2), issued by the token endpoint
//! beside the access token of a grant that holds `openid`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use entity::user;
use jsonwebtoken::{Algorithm, Header, encode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::claims::UserClaims;
use crate::domain::{IdTokenAlg, ScopeSet};
use crate::secrets::signing_keys::KeySet;

/// The `typ` header: a plain JWT, unlike access tokens' `at+jwt`, so that
/// neither can pass for the other.
pub const TYP: &str = "JWT";

/// OIDC Core §2 claims, then the scope's claims about the person.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    /// The user's id: the same `sub` as in the access token.
    pub sub: String,
    /// The client id.
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The browser session's public id (Back-Channel Logout 1.0 §2.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub at_hash: String,
    /// The client id again (OIDC Core §2: the party it was issued to).
    pub azp: String,
    #[serde(flatten)]
    pub user: UserClaims,
}

/// What a grant knows of the sign-in an ID token speaks for.
#[derive(Clone, Copy, Debug)]
pub struct IdTokenRequest<'a> {
    pub user: &'a user::Model,
    pub alg: IdTokenAlg,
    /// The authorization request's nonce; never on a refresh (OIDC Core
    /// §12.2), which has no request to bind to.
    pub nonce: Option<&'a str>,
    pub auth_time: Option<DateTime<Utc>>,
    pub sid: Option<&'a str>,
}

#[derive(Debug, thiserror::Error)]
pub enum IdTokenError {
    #[error("no current {0} signing key")]
    NoKey(&'static str),
    #[error("signing the ID token failed: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// What every ID token of one issuer shares.
pub struct Issuer<'a> {
    pub keys: &'a KeySet,
    pub iss: &'a str,
    /// The access token lifetime: an ID token lives no longer.
    pub ttl: chrono::TimeDelta,
}

/// Signs an ID token for `client_id` with the client's algorithm, bound to
/// `access_token` through `at_hash`.
pub fn mint(
    issuer: &Issuer<'_>,
    request: &IdTokenRequest<'_>,
    client_id: &str,
    scopes: &ScopeSet,
    access_token: &str,
    now: DateTime<Utc>,
) -> Result<String, IdTokenError> {
    let algorithm = jose_algorithm(request.alg);
    let key = issuer
        .keys
        .current_for(algorithm)
        .ok_or(IdTokenError::NoKey(request.alg.as_str()))?;
    let claims = IdTokenClaims {
        iss: issuer.iss.to_owned(),
        sub: request.user.id.to_string(),
        aud: client_id.to_owned(),
        exp: (now + issuer.ttl).timestamp(),
        iat: now.timestamp(),
        auth_time: request.auth_time.map(|t| t.timestamp()),
        nonce: request.nonce.map(str::to_owned),
        sid: request.sid.map(str::to_owned),
        at_hash: at_hash(access_token),
        azp: client_id.to_owned(),
        user: UserClaims::of(request.user, scopes),
    };
    let mut header = Header::new(key.algorithm);
    header.typ = Some(TYP.to_owned());
    header.kid = Some(key.kid.clone());
    Ok(encode(&header, &claims, &key.encoding)?)
}

fn jose_algorithm(alg: IdTokenAlg) -> Algorithm {
    match alg {
        IdTokenAlg::RS256 => Algorithm::RS256,
        IdTokenAlg::ES256 => Algorithm::ES256,
    }
}

/// OIDC Core §3.1.3.6: "Hash the octets of the ASCII representation of the
/// access_token with the hash algorithm specified in JWA for the alg
/// Header Parameter ... Take the left-most half of the hash and base64url
/// encode it." SHA-256 for both RS256 and ES256.
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_is_the_left_half_of_the_sha256_in_base64url() {
        // OIDC Core, Appendix A.3's access token and its at_hash, which the
        // spec computes for RS256 (SHA-256), as ES256 does.
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }

    #[test]
    fn each_client_algorithm_names_its_jose_algorithm() {
        assert_eq!(jose_algorithm(IdTokenAlg::RS256), Algorithm::RS256);
        assert_eq!(jose_algorithm(IdTokenAlg::ES256), Algorithm::ES256);
    }
}
