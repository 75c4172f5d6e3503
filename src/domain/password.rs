use super::SecretString;
use super::ValidationError;
use passwords::analyzer::is_common_password;

const MIN_CHARS: usize = 12;

/// A new password: 12 to 1024 characters, and not one of the common
/// passwords that guessing starts with (NIST SP 800-63B §3.1.1.2). The
/// upper bound keeps one login from costing unbounded hashing time.
#[derive(Debug)]
pub struct Password(SecretString);

impl Password {
    pub fn parse(s: String) -> Result<Self, ValidationError> {
        let len = s.chars().count();
        if len < MIN_CHARS {
            return Err(ValidationError::new(format!(
                "password must be at least {MIN_CHARS} characters"
            )));
        }
        if len > 1024 {
            return Err(ValidationError::new(
                "password must be at most 1024 characters",
            ));
        }
        if is_common_password(&s) || is_common_password(s.to_lowercase()) {
            return Err(ValidationError::new(
                "password is one of the most common passwords; choose another",
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
        let err = Password::parse("eleven char".into()).expect_err("11");
        assert!(err.0.contains("at least 12"), "{err}");
        let p = Password::parse("long enough!".into()).expect("valid");
        assert_eq!(format!("{p:?}"), "Password([redacted])");
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        for common in ["password1234", "qwertyuiop123", "PASSWORD1234"] {
            let err = Password::parse(common.into()).expect_err(common);
            assert!(err.0.contains("common"), "{common}: {err}");
        }
        assert!(Password::parse("correct horse battery staple".into()).is_ok());
    }
}
