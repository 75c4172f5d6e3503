//! RFC 9068 JWT access tokens: issued by the token endpoint, verified by
//! the resource API.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::{Header, Validation, decode, decode_header, encode};
use serde::{Deserialize, Serialize};
use tracing::debug;
use uuid::Uuid;

use super::{AuthError, Authenticator, Principal, Subject};
use crate::domain::ScopeSet;
use crate::secrets::signing_keys::ACCESS_TOKEN_ALGORITHM;

/// The `typ` header of RFC 9068 §2.1.
pub const TYP: &str = "at+jwt";
/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY: TimeDelta = TimeDelta::seconds(30);

/// RFC 9068 §2.2 claims, plus the grant id for family revocation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    /// The user's id, or the `client_id` for client credentials.
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    pub client_id: String,
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// Grant id: every token from one authorization shares it.
    pub gid: String,
}

/// The last moment an access token issued before `now`, with lifetime
/// `ttl`, can still be accepted: how long a grant's denylist entry must last.
pub fn accepted_until(now: DateTime<Utc>, ttl: TimeDelta) -> DateTime<Utc> {
    now + ttl + LEEWAY
}

/// The audience of our access tokens: the resource API.
pub fn audience(issuer: &str) -> String {
    format!("{issuer}/api")
}

pub struct IssuedAccessToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// A token id that also says when, to the millisecond, the token was
/// issued (a UUIDv7: 48 bits of time, 74 random), for the denylist's
/// cutoffs (see `revocations::Cutoff`).
fn jti(now: DateTime<Utc>) -> Uuid {
    let nanos = now.timestamp_subsec_nanos();
    let secs = u64::try_from(now.timestamp()).unwrap_or_default();
    Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, secs, nanos))
}

/// When the token was issued, in Unix milliseconds: from its `jti` when
/// that is one of ours, else the last millisecond of its `iat` second.
fn issued_at_ms(claims: &AccessTokenClaims) -> i64 {
    let from_jti = Uuid::parse_str(&claims.jti).ok().and_then(|id| {
        let (secs, nanos) = id.get_timestamp()?.to_unix();
        // Trusted only within the `iat` second the signature vouches for.
        (i64::try_from(secs).ok()? == claims.iat)
            .then(|| claims.iat * 1000 + i64::from(nanos / 1_000_000))
    });
    from_jti.unwrap_or(claims.iat.saturating_mul(1000).saturating_add(999))
}

/// Signs an access token for `subject` with the current key.
pub fn issue(
    auth: &Authenticator,
    subject: &Subject,
    client_id: &str,
    scopes: &ScopeSet,
    grant_id: Uuid,
    now: DateTime<Utc>,
) -> Result<IssuedAccessToken, jsonwebtoken::errors::Error> {
    let keys = auth.keys.snapshot();
    let key = keys.current();
    let ttl = auth.settings.access_token_ttl;
    let expires_at = now + ttl;
    let issuer = auth.settings.issuer_str();
    let (sub, preferred_username) = match subject {
        Subject::User { id, username } => (id.to_string(), Some(username.clone())),
        Subject::Client { client_id } => (client_id.clone(), None),
    };
    let claims = AccessTokenClaims {
        iss: issuer.to_owned(),
        sub,
        aud: audience(issuer),
        exp: expires_at.timestamp(),
        iat: now.timestamp(),
        nbf: now.timestamp(),
        jti: jti(now).to_string(),
        client_id: client_id.to_owned(),
        scope: scopes.to_string(),
        preferred_username,
        gid: grant_id.to_string(),
    };
    let mut header = Header::new(key.algorithm);
    header.typ = Some(TYP.to_owned());
    header.kid = Some(key.kid.clone());
    let token = encode(&header, &claims, &key.encoding)?;
    Ok(IssuedAccessToken { token, expires_at })
}

/// Why a token was refused, in words safe to send back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    Malformed,
    UnknownKey,
    BadSignature,
    Expired,
    NotYetValid,
    Revoked,
}

impl Rejection {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Malformed => "the access token is malformed or not an access token",
            Self::UnknownKey => "the access token is signed by an unknown key",
            Self::BadSignature => "the access token is invalid",
            Self::Expired => "the access token has expired",
            Self::NotYetValid => "the access token is not valid yet",
            Self::Revoked => "the access token has been revoked",
        }
    }
}

/// Verifies signature, `typ`, `iss`, `aud`, `exp`, `nbf` and the denylist.
/// Signature checks are cached per token, since a client reuses its token
/// for many requests; time and revocation are checked on every call.
pub async fn verify(auth: &Authenticator, token: &str) -> Result<AccessTokenClaims, Rejection> {
    let now = auth.clock.now();
    let claims = match auth.tokens.get(token) {
        Some(claims) => claims,
        None => {
            let claims = Arc::new(verify_signature(auth, token).await?);
            auth.tokens.insert(token, claims.clone());
            claims
        }
    };
    let now_s = now.timestamp();
    if claims.exp + LEEWAY.num_seconds() <= now_s {
        return Err(Rejection::Expired);
    }
    if claims.nbf - LEEWAY.num_seconds() > now_s {
        return Err(Rejection::NotYetValid);
    }
    // Client credentials act for no user: their `sub` is the client id.
    let user = (claims.sub != claims.client_id).then_some(claims.sub.as_str());
    if auth.denylist.is_revoked(&claims.jti)
        || auth.denylist.is_revoked(&claims.gid)
        || auth
            .denylist
            .is_cut_off(user, &claims.client_id, || issued_at_ms(&claims))
    {
        return Err(Rejection::Revoked);
    }
    Ok((*claims).clone())
}

async fn verify_signature(
    auth: &Authenticator,
    token: &str,
) -> Result<AccessTokenClaims, Rejection> {
    let header = decode_header(token).map_err(|_| Rejection::Malformed)?;
    // RFC 9068 §4: resource servers MUST verify that the typ header is at+jwt.
    if !header.typ.as_deref().is_some_and(|t| {
        t.eq_ignore_ascii_case(TYP) || t.eq_ignore_ascii_case("application/at+jwt")
    }) {
        return Err(Rejection::Malformed);
    }
    let kid = header.kid.ok_or(Rejection::Malformed)?;
    let keys = auth.keys.snapshot();
    let key = match keys.get(&kid) {
        Some(key) => key.clone(),
        None => auth
            .reload_keys_for(&kid)
            .await
            .ok_or(Rejection::UnknownKey)?,
    };
    // The key decides the algorithm: never `none`, never HMAC, never what
    // the token's own header claims.
    if header.alg != key.algorithm {
        return Err(Rejection::BadSignature);
    }
    // RFC 8725 §3.1: only the algorithm we expect. The other keys sign
    // ID tokens, which must never pass as access tokens (§2.8, cross-JWT
    // confusion), even with a forged `typ`.
    if key.algorithm != ACCESS_TOKEN_ALGORITHM {
        return Err(Rejection::Malformed);
    }
    let issuer = auth.settings.issuer_str();
    let mut validation = Validation::new(key.algorithm);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience(issuer)]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    // Time is checked by the caller against the app's clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    decode::<AccessTokenClaims>(token, &key.decoding, &validation)
        .map(|data| data.claims)
        .map_err(|e| {
            debug!(error = %e, "access token rejected");
            Rejection::BadSignature
        })
}

/// The resource API's view of a verified token.
pub async fn authenticate(auth: &Authenticator, token: &str) -> Result<Principal, AuthError> {
    let claims = verify(auth, token).await.map_err(|r| {
        debug!(reason = r.describe(), "bearer token rejected");
        AuthError::InvalidToken(r.describe())
    })?;
    let scopes = ScopeSet::parse(&claims.scope)
        .map_err(|_| AuthError::InvalidToken(Rejection::BadSignature.describe()))?;
    let subject = match claims.preferred_username {
        Some(username) => Subject::User {
            id: Uuid::parse_str(&claims.sub)
                .map_err(|_| AuthError::InvalidToken(Rejection::Malformed.describe()))?,
            username,
        },
        None => Subject::Client {
            client_id: claims.sub,
        },
    };
    Ok(Principal { subject, scopes })
}

/// Verified claims by token. Time and revocation are checked on every
/// use, so an entry may live as long as any token.
pub type TokenCache = crate::cache::TtlCache<AccessTokenClaims>;

/// A cache for verified access tokens.
pub fn token_cache() -> TokenCache {
    crate::cache::TtlCache::new(std::time::Duration::from_secs(24 * 3600), 4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(jti: String, iat: i64) -> AccessTokenClaims {
        AccessTokenClaims {
            iss: String::new(),
            sub: String::new(),
            aud: String::new(),
            exp: iat + 60,
            iat,
            nbf: iat,
            jti,
            client_id: String::new(),
            scope: String::new(),
            preferred_username: None,
            gid: String::new(),
        }
    }

    #[test]
    fn the_issue_time_comes_from_the_jti_to_the_millisecond_when_it_is_ours() {
        let now = DateTime::from_timestamp(1_800_000_000, 123_456_789).unwrap();
        let ours = claims(jti(now).to_string(), now.timestamp());
        assert_eq!(issued_at_ms(&ours), 1_800_000_000_123);

        let v4 = claims(Uuid::new_v4().to_string(), now.timestamp());
        assert_eq!(issued_at_ms(&v4), 1_800_000_000_999, "end of its second");
        // A jti claiming another second than the signed `iat` is not believed.
        let other_second = claims(jti(now).to_string(), now.timestamp() + 5);
        assert_eq!(issued_at_ms(&other_second), 1_800_000_005_999);
    }
}
