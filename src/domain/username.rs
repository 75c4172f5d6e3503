use super::ValidationError;

/// A login name: 2 to 32 ASCII letters, digits, `.`, `_` or `-`.
///
/// The cap of 32 also keeps usernames apart from client ids (36-character
/// UUIDs) wherever an author is shown.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let len = s.chars().count();
        if !(2..=32).contains(&len) {
            return Err(ValidationError::new("username must be 2 to 32 characters"));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(ValidationError::new(
                "username may contain only letters, digits, '.', '_' and '-'",
            ));
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
    fn a_plain_name_is_accepted() {
        assert_eq!(
            Username::parse("alice_1.b-c").expect("valid").as_str(),
            "alice_1.b-c"
        );
    }

    #[test]
    fn too_short_too_long_or_odd_characters_are_refused() {
        assert!(Username::parse("a").is_err());
        assert!(Username::parse(&"a".repeat(33)).is_err());
        assert!(Username::parse("al ice").is_err());
        assert!(Username::parse("alice@x").is_err());
        assert!(Username::parse("").is_err());
    }
}
