//! Validated newtypes: everything from outside is parsed into one of these
//! before it reaches a store or a handler's logic.

mod client;
mod password;
mod post;
mod profile;
mod redirect_uri;
mod scope;
mod secret;
mod username;

pub use client::{Client, ClientKind, GrantType, GrantTypes, IdTokenAlg};
pub use password::Password;
pub use post::{PostBody, PostTitle};
pub use profile::{DisplayName, Email};
pub use redirect_uri::RedirectUri;
pub use scope::{Scope, ScopeSet};
pub use secret::SecretString;
pub use username::Username;

/// Why an input was refused; the text is shown to the person who sent it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValidationError(pub String);

impl ValidationError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// Refuses control characters in a one-line text `field` (NUL among them,
/// which PostgreSQL cannot store at all).
pub fn check_line(field: &str, value: &str) -> Result<(), ValidationError> {
    if value.chars().any(char::is_control) {
        return Err(ValidationError::new(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(())
}

/// As [`check_line`], allowing tabs and line breaks.
pub fn check_text(field: &str, value: &str) -> Result<(), ValidationError> {
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(ValidationError::new(format!(
            "{field} must not contain control characters other than tabs and line breaks"
        )));
    }
    Ok(())
}
