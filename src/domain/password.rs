use super::SecretString;
use super::ValidationError;

/// A new password: 8 to 1024 characters. The upper bound keeps one login
/// from costing unbounded hashing time.
#[derive(Debug)]
pub struct Password(SecretString);

impl Password {
    pub fn parse(s: String) -> Result<Self, ValidationError> {
        let len = s.chars().count();
        if len < 8 {
            return Err(ValidationError::new(
                "password must be at least 8 characters",
            ));
        }
        if len > 1024 {
            return Err(ValidationError::new(
                "password must be at most 1024 characters",
            ));
        }
        Ok(Self(SecretString::new(s)))
    }

    pub fn into_secret(self) -> SecretString {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_passwords_are_refused_and_debug_hides_it() {
        assert!(Password::parse("short".into()).is_err());
        let p = Password::parse("long enough".into()).expect("valid");
        assert_eq!(format!("{p:?}"), "Password([redacted])");
    }
}
