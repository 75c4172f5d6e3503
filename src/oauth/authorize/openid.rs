//! The OpenID Connect parameters of the authorization request (OIDC Core
//! 1.0 §3.1.2.1): `nonce`, `prompt`, `max_age` and `login_hint`. They are
//! read for every request, OpenID or not, as Keycloak and
//! node-oidc-provider do: `prompt=none` means the same to a plain OAuth
//! client.

use chrono::{DateTime, Utc};

use super::redirect::Refusal;
use crate::oauth::error::AuthorizeErrorCode;
use crate::oauth::params::Params;

/// Longest `nonce` kept: enough for any client's random value or hash,
/// small enough that a code row and an ID token stay small.
pub const MAX_NONCE_CHARS: usize = 512;

/// Longest `login_hint`: it only pre-fills the username field.
pub const MAX_LOGIN_HINT_CHARS: usize = 256;

/// What the request asks of the sign-in, beyond OAuth.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenIdParams {
    /// Echoed in the ID token (Core §3.1.2.1), stored on the code.
    pub nonce: Option<String>,
    pub prompt: Prompt,
    /// Seconds since the person last signed in beyond which they must
    /// sign in again.
    pub max_age: Option<u64>,
    pub login_hint: Option<String>,
}

impl OpenIdParams {
    pub fn parse(params: &Params) -> Result<Self, Refusal> {
        let nonce = params.get("nonce");
        if nonce.is_some_and(|n| n.chars().count() > MAX_NONCE_CHARS) {
            return Err((
                AuthorizeErrorCode::InvalidRequest,
                "nonce is longer than 512 characters",
            ));
        }
        let login_hint = params.get("login_hint");
        if login_hint.is_some_and(|h| h.chars().count() > MAX_LOGIN_HINT_CHARS) {
            return Err((
                AuthorizeErrorCode::InvalidRequest,
                "login_hint is longer than 256 characters",
            ));
        }
        Ok(Self {
            nonce: nonce.map(str::to_owned),
            prompt: Prompt::parse(params.get("prompt"))?,
            max_age: params.get("max_age").map(parse_max_age).transpose()?,
            login_hint: login_hint.map(str::to_owned),
        })
    }

    /// Whether a person who signed in at `auth_time` must sign in again:
    /// `prompt=login`, or a `max_age` that has passed. Core §3.1.2.1
    /// (max_age): "If the elapsed time is greater than this value, the OP
    /// MUST attempt to actively re-authenticate the End-User." Errata 2
    /// adds that "max_age=0 is equivalent to prompt=login".
    pub fn reauthentication_needed(&self, auth_time: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        if self.prompt.login {
            return true;
        }
        match self.max_age {
            None => false,
            Some(0) => true,
            Some(max_age) => {
                let elapsed = u64::try_from((now - auth_time).num_seconds()).unwrap_or(0);
                elapsed > max_age
            }
        }
    }
}

/// The `prompt` values (Core §3.1.2.1), space-delimited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prompt {
    /// Show no page at all; fail with `login_required` or
    /// `consent_required` instead.
    pub none: bool,
    /// Ask for the password even with a live session.
    pub login: bool,
    /// Ask for consent even when it is remembered.
    pub consent: bool,
}

impl Prompt {
    pub fn parse(raw: Option<&str>) -> Result<Self, Refusal> {
        let mut prompt = Self::default();
        for value in raw.unwrap_or("").split(' ').filter(|v| !v.is_empty()) {
            match value {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" => prompt.consent = true,
                // `select_account` too: there is one account per browser
                // session here, and node-oidc-provider refuses values it
                // does not support rather than ignoring them.
                _ => {
                    return Err((
                        AuthorizeErrorCode::InvalidRequest,
                        "prompt may hold only none, login and consent",
                    ));
                }
            }
        }
        // Core §3.1.2.1: "If this parameter contains none with any other
        // value, an error is returned."
        if prompt.none && (prompt.login || prompt.consent) {
            return Err((
                AuthorizeErrorCode::InvalidRequest,
                "prompt=none may not be combined with other values",
            ));
        }
        Ok(prompt)
    }
}

/// Core §3.1.2.1: "max_age ... Specifies the allowable elapsed time in
/// seconds": a non-negative integer, written in plain digits.
fn parse_max_age(raw: &str) -> Result<u64, Refusal> {
    let refusal = (
        AuthorizeErrorCode::InvalidRequest,
        "max_age must be a non-negative whole number of seconds",
    );
    if !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refusal);
    }
    raw.parse().map_err(|_| refusal)
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    fn parse(query: &str) -> Result<OpenIdParams, Refusal> {
        OpenIdParams::parse(&Params::parse(query.as_bytes()))
    }

    #[test]
    fn prompt_values_are_read_in_any_order_and_unknown_ones_refused() {
        let p = Prompt::parse(Some("consent login")).expect("valid");
        assert!(p.login && p.consent && !p.none);
        assert_eq!(Prompt::parse(None).expect("absent"), Prompt::default());
        assert!(Prompt::parse(Some("select_account")).is_err());
        assert!(Prompt::parse(Some("login bogus")).is_err());
    }

    #[test]
    fn prompt_none_alone_is_fine_but_not_with_another_value() {
        assert!(Prompt::parse(Some("none")).expect("valid").none);
        assert!(Prompt::parse(Some("none login")).is_err());
        assert!(Prompt::parse(Some("consent none")).is_err());
    }

    #[test]
    fn max_age_is_plain_digits() {
        assert_eq!(parse("max_age=300").expect("valid").max_age, Some(300));
        assert_eq!(parse("max_age=0").expect("valid").max_age, Some(0));
        for bad in ["-1", "+5", "1.5", "ten", "99999999999999999999999"] {
            assert!(parse(&format!("max_age={bad}")).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_nonce_may_be_512_characters_but_not_more() {
        let ok = "n".repeat(MAX_NONCE_CHARS);
        assert_eq!(
            parse(&format!("nonce={ok}")).expect("valid").nonce,
            Some(ok)
        );
        assert!(parse(&format!("nonce={}", "n".repeat(MAX_NONCE_CHARS + 1))).is_err());
    }

    #[test]
    fn an_overlong_login_hint_is_refused() {
        assert!(
            parse(&format!(
                "login_hint={}",
                "a".repeat(MAX_LOGIN_HINT_CHARS + 1)
            ))
            .is_err()
        );
        assert_eq!(
            parse("login_hint=alice")
                .expect("valid")
                .login_hint
                .as_deref(),
            Some("alice")
        );
    }

    #[test]
    fn reauthentication_follows_prompt_login_and_max_age() {
        let now = Utc::now();
        let signed_in = now - TimeDelta::seconds(100);
        let with = |query: &str| parse(query).expect("valid");
        assert!(!with("").reauthentication_needed(signed_in, now));
        assert!(with("prompt=login").reauthentication_needed(now, now));
        assert!(with("max_age=0").reauthentication_needed(now, now));
        assert!(with("max_age=99").reauthentication_needed(signed_in, now));
        assert!(!with("max_age=100").reauthentication_needed(signed_in, now));
        assert!(!with("max_age=3600").reauthentication_needed(signed_in, now));
    }
}
