use super::ValidationError;

/// A post title: 1 to 200 characters, not only whitespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostTitle(String);

impl PostTitle {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(s: String) -> Result<Self, ValidationError> {
        if s.trim().is_empty() {
            return Err(ValidationError::new("title must not be empty"));
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(ValidationError::new("title must be at most 200 characters"));
        }
        super::check_line("title", &s)?;
        Ok(Self(s))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A post body: at most 100 KiB of UTF-8.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostBody(String);

impl PostBody {
    pub const MAX_BYTES: usize = 100 * 1024;

    pub fn parse(s: String) -> Result<Self, ValidationError> {
        if s.len() > Self::MAX_BYTES {
            return Err(ValidationError::new(
                "body must be at most 102400 bytes (100 KiB)",
            ));
        }
        super::check_text("body", &s)?;
        Ok(Self(s))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_but_line_breaks_in_a_body_are_not() {
        let err = PostTitle::parse("a\0b".into()).expect_err("NUL");
        assert!(err.0.contains("title"), "{err}");
        assert!(PostTitle::parse("tab\there".into()).is_err());
        let err = PostBody::parse("x\u{1b}[31m".into()).expect_err("escape");
        assert!(err.0.contains("body"), "{err}");
        assert!(PostBody::parse("line one\r\nline\ttwo\n".into()).is_ok());
    }

    #[test]
    fn titles_are_bounded_in_characters_not_bytes() {
        assert!(PostTitle::parse("é".repeat(200)).is_ok());
        assert!(PostTitle::parse("a".repeat(201)).is_err());
        assert!(PostTitle::parse("   ".into()).is_err());
    }

    #[test]
    fn bodies_are_bounded_in_bytes() {
        assert!(PostBody::parse("a".repeat(PostBody::MAX_BYTES)).is_ok());
        assert!(PostBody::parse("a".repeat(PostBody::MAX_BYTES + 1)).is_err());
        assert!(PostBody::parse(String::new()).is_ok());
    }
}
