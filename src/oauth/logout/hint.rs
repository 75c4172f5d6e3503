//! The `id_token_hint` of RP-Initiated Logout 1.0 §2: an ID token we
//! issued, telling us which person and session the client means.

use jsonwebtoken::{Validation, decode, decode_header};
use serde::Deserialize;
use tracing::warn;

use crate::state::AppState;

/// What a verified hint says.
#[derive(Debug)]
pub struct IdTokenHint {
    /// The user's id.
    pub sub: String,
    /// The session the token was issued in, when it names one.
    pub sid: Option<String>,
    /// The client the token was issued to: `azp`, else a single `aud`.
    pub client_id: Option<String>,
    pub audience: Vec<String>,
}

impl IdTokenHint {
    /// Whether the token names this client among its audience.
    pub fn is_for(&self, client_id: &str) -> bool {
        self.audience.iter().any(|a| a == client_id)
    }
}

/// Why a hint was not taken; none of them is shown to the person, who
/// gets the confirmation page instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    Malformed,
    /// Typed as something else, e.g. one of our access tokens.
    NotAnIdToken,
    UnknownKey,
    BadSignature,
}

impl Rejection {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Malformed => "the id_token_hint is not a JWT with a kid",
            Self::NotAnIdToken => "the id_token_hint is not an ID token",
            Self::UnknownKey => "the id_token_hint is signed by an unknown key",
            Self::BadSignature => "the id_token_hint has a bad signature or issuer",
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    aud: Audience,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    sid: Option<String>,
}

/// Verifies the hint's signature with one of our live keys (either kind,
/// reloading once for an unknown `kid`, as for access tokens) and its
/// issuer (RP-Initiated Logout 1.0 §2: "the OP MUST validate that it was
/// the issuer of the ID Token"). Its expiry is not checked: §2 has the OP
/// accept ID tokens whose `exp` has passed, since a client often asks for
/// logout long after its token expired. Whether the hint matches the
/// browser's session is the caller's question.
pub async fn verify(state: &AppState, token: &str) -> Result<IdTokenHint, Rejection> {
    let header = decode_header(token).map_err(|_| Rejection::Malformed)?;
    // Access and logout tokens are signed by the same keys: only an ID
    // token (typ JWT, or none) is a hint.
    if header
        .typ
        .as_deref()
        .is_some_and(|t| !t.eq_ignore_ascii_case("JWT"))
    {
        return Err(Rejection::NotAnIdToken);
    }
    let kid = header.kid.ok_or(Rejection::Malformed)?;
    let keys = state.keys.snapshot();
    let key = match keys.get(&kid) {
        Some(key) => key.clone(),
        None => state
            .keys
            .reload_for(
                &kid,
                &state.db,
                state.clock.now(),
                state.settings.access_token_ttl,
            )
            .await
            .unwrap_or_else(|e| {
                warn!(error = %e, "could not reload signing keys");
                None
            })
            .ok_or(Rejection::UnknownKey)?,
    };
    // The key decides the algorithm, never the token's own header.
    if header.alg != key.algorithm {
        return Err(Rejection::BadSignature);
    }
    let mut validation = Validation::new(key.algorithm);
    validation.set_issuer(&[state.settings.issuer_str()]);
    validation.set_required_spec_claims(&["iss", "sub", "aud"]);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    // Checked against `client_id` by the caller (§2).
    validation.validate_aud = false;
    let claims = decode::<Claims>(token, &key.decoding, &validation)
        .map_err(|_| Rejection::BadSignature)?
        .claims;
    let audience = match claims.aud {
        Audience::One(aud) => vec![aud],
        Audience::Many(auds) => auds,
    };
    let client_id = match (claims.azp, audience.as_slice()) {
        (Some(azp), _) => Some(azp),
        (None, [only]) => Some(only.clone()),
        (None, _) => None,
    };
    Ok(IdTokenHint {
        sub: claims.sub,
        sid: claims.sid,
        client_id,
        audience,
    })
}
