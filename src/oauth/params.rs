//! Request parameters of the OAuth endpoints. RFC 6749 §3.1 and §3.2:
//! "Request and response parameters MUST NOT be included more than once."

use std::collections::HashMap;

/// Parameters by name; empty values count as absent (RFC 6749 §3.1).
#[derive(Debug, Default)]
pub struct Params {
    map: HashMap<String, String>,
    /// Every name that appeared more than once, in order of discovery.
    duplicates: Vec<String>,
    /// Every name whose value holds a control character, in order.
    controls: Vec<String>,
}

impl Params {
    pub fn parse(encoded: &[u8]) -> Self {
        let mut params = Self::default();
        for (k, v) in url::form_urlencoded::parse(encoded) {
            if v.is_empty() {
                continue;
            }
            if v.chars().any(char::is_control) && !params.controls.iter().any(|c| c == k.as_ref()) {
                params.controls.push(k.clone().into_owned());
            }
            if params.map.contains_key(k.as_ref()) {
                if !params.duplicates.iter().any(|d| d == k.as_ref()) {
                    params.duplicates.push(k.into_owned());
                }
                continue;
            }
            params.map.insert(k.into_owned(), v.into_owned());
        }
        params
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }

    /// The first parameter that appeared more than once.
    pub fn duplicate(&self) -> Option<&str> {
        self.duplicates.first().map(String::as_str)
    }

    /// The first parameter whose value holds a control character. No OAuth
    /// value has one (RFC 6749 Appendix A), and PostgreSQL cannot store a NUL.
    pub fn with_control_character(&self) -> Option<&str> {
        self.controls.first().map(String::as_str)
    }

    /// Whether `name` appeared more than once, whatever else did too.
    pub fn is_duplicated(&self, name: &str) -> bool {
        self.duplicates.iter().any(|d| d == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_control_character_in_a_value_is_named() {
        let p = Params::parse(b"a=1&username=al%00ice&b=x%0Ay");
        assert_eq!(p.with_control_character(), Some("username"));
        assert_eq!(
            Params::parse(b"a=1&b=two%20words").with_control_character(),
            None
        );
    }

    #[test]
    fn values_are_decoded_and_duplicates_noticed() {
        let p = Params::parse(b"a=1&b=x%20y&empty=&a=2");
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), Some("x y"));
        assert_eq!(p.get("empty"), None);
        assert_eq!(p.duplicate(), Some("a"));
    }

    #[test]
    fn every_duplicated_name_is_noticed_not_only_the_first() {
        let p = Params::parse(b"state=1&state=2&client_id=a&client_id=b");
        assert_eq!(p.duplicate(), Some("state"));
        assert!(p.is_duplicated("state"));
        assert!(p.is_duplicated("client_id"));
        assert!(!p.is_duplicated("scope"));
    }
}
