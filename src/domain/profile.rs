//! A user's optional profile: what the OIDC `profile` and `email` scopes
//! reveal (OIDC Core §5.1).

use super::{ValidationError, check_line};

/// A person's display name: the `name` claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = s.trim();
        if s.is_empty() || s.chars().count() > Self::MAX_CHARS {
            return Err(ValidationError::new(format!(
                "name must be 1 to {} characters",
                Self::MAX_CHARS
            )));
        }
        check_line("name", s)?;
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address: the `email` claim. Only its shape is checked
/// (`local@domain`, RFC 5321 length limits); whether the person can read
/// it is `email_verified`, which an operator sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = s.trim();
        let bad = |why: &str| ValidationError::new(format!("invalid email '{s}': {why}"));
        if s.len() > 254 {
            return Err(bad("it is longer than 254 bytes"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("it contains whitespace"));
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err(bad("it has no '@'"));
        };
        if local.is_empty() || local.len() > 64 {
            return Err(bad("the part before '@' must be 1 to 64 bytes"));
        }
        if domain.is_empty() || domain.starts_with('.') || domain.ends_with('.') {
            return Err(bad("the part after '@' is not a domain"));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            DisplayName::parse("  Ada Lovelace ").expect("ok").as_str(),
            "Ada Lovelace"
        );
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"x".repeat(101)).is_err());
        assert!(DisplayName::parse("a\u{0}b").is_err());
    }

    #[test]
    fn emails_need_a_local_part_and_a_domain() {
        assert_eq!(
            Email::parse("ada@example.com").expect("ok").as_str(),
            "ada@example.com"
        );
        for bad in [
            "ada",
            "@example.com",
            "ada@",
            "ada@.com",
            "a da@example.com",
            "ada@example.",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
