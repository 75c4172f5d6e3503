//! The claims about a person that the `profile` and `email` scopes reveal
//! (OIDC Core §5.4): shared by the ID token and the userinfo endpoint, so
//! both say the same thing for the same scopes.

use entity::user;
use serde::{Deserialize, Serialize};

use crate::domain::{Scope, ScopeSet};

/// Standard claims (OIDC Core §5.1); each is left out when its scope was
/// not granted or the user has no value for it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Seconds since the epoch (OIDC Core §5.1: "a JSON number").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
}

impl UserClaims {
    /// What `scopes` allow to be said about `user`, as the user row says
    /// it now.
    pub fn of(user: &user::Model, scopes: &ScopeSet) -> Self {
        let mut claims = Self::default();
        if scopes.contains(Scope::Profile) {
            claims.preferred_username = Some(user.username.clone());
            claims.name = user.name.clone();
            claims.updated_at = Some(user.updated_at.timestamp());
        }
        // `email_verified` only beside an address: it says something about
        // that address, and nothing without one.
        if scopes.contains(Scope::Email)
            && let Some(email) = &user.email
        {
            claims.email = Some(email.clone());
            claims.email_verified = Some(user.email_verified);
        }
        claims
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn ada(name: Option<&str>, email: Option<&str>) -> user::Model {
        let at = Utc
            .with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
            .single()
            .unwrap_or_default();
        user::Model {
            id: uuid::Uuid::nil(),
            username: "ada".to_owned(),
            password_hash: "[not a hash]".to_owned(),
            created_at: at,
            name: name.map(str::to_owned),
            email: email.map(str::to_owned),
            email_verified: true,
            updated_at: at,
            disabled_at: None,
        }
    }

    fn scopes(s: &str) -> ScopeSet {
        ScopeSet::parse(s).unwrap_or_default()
    }

    #[test]
    fn profile_gives_the_username_name_and_update_time() {
        let claims = UserClaims::of(
            &ada(Some("Ada L."), Some("ada@example.com")),
            &scopes("openid profile"),
        );
        assert_eq!(claims.preferred_username.as_deref(), Some("ada"));
        assert_eq!(claims.name.as_deref(), Some("Ada L."));
        assert_eq!(claims.updated_at, Some(1_767_323_045));
        assert_eq!(claims.email, None, "email was not granted");
        assert_eq!(claims.email_verified, None);
    }

    #[test]
    fn email_gives_the_address_and_whether_it_is_verified() {
        let claims = UserClaims::of(&ada(None, Some("ada@example.com")), &scopes("openid email"));
        assert_eq!(claims.email.as_deref(), Some("ada@example.com"));
        assert_eq!(claims.email_verified, Some(true));
        assert_eq!(claims.preferred_username, None, "profile was not granted");
    }

    #[test]
    fn claims_the_user_has_no_value_for_are_left_out() {
        let claims = UserClaims::of(&ada(None, None), &scopes("openid profile email"));
        assert_eq!(claims.name, None);
        assert_eq!(claims.email, None);
        assert_eq!(claims.email_verified, None, "no address, nothing verified");
        let json = serde_json::to_value(&claims).unwrap_or_default();
        assert!(
            json.get("name").is_none() && json.get("email").is_none(),
            "{json}"
        );
    }
}
