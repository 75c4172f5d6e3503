//! Reading the account pages' forms. Unlike OAuth parameters, an empty
//! value is a value here: an emptied name field removes the name.

use std::collections::HashMap;

use poem::Body;

/// No form of ours comes near this.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// Why a form was refused, said to the person as is.
#[derive(Debug, PartialEq, Eq)]
pub struct BadForm(pub String);

#[derive(Debug, Default)]
pub struct Form(HashMap<String, String>);

impl Form {
    pub async fn read(body: Body) -> Result<Self, BadForm> {
        let bytes = body
            .into_bytes_limit(MAX_FORM_BYTES)
            .await
            .map_err(|_| BadForm("The form could not be read.".to_owned()))?;
        Self::parse(&bytes)
    }

    /// Refuses a field sent twice (which one would count?) and control
    /// characters, which no field of ours holds.
    pub fn parse(encoded: &[u8]) -> Result<Self, BadForm> {
        let mut map = HashMap::new();
        for (name, value) in url::form_urlencoded::parse(encoded) {
            if value.chars().any(char::is_control) {
                return Err(BadForm(format!(
                    "The field {name} contains characters that are not allowed."
                )));
            }
            if map.insert(name.to_string(), value.into_owned()).is_some() {
                return Err(BadForm(format!("The field {name} was sent twice.")));
            }
        }
        Ok(Self(map))
    }

    /// The field's value; a missing field reads as empty.
    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_are_kept_and_missing_ones_read_empty() {
        let form = Form::parse(b"name=&email=a%40b.example").expect("a form");
        assert_eq!(form.get("name"), "");
        assert_eq!(form.get("email"), "a@b.example");
        assert_eq!(form.get("absent"), "");
    }

    #[test]
    fn a_repeated_field_or_a_control_character_is_refused() {
        assert!(Form::parse(b"sid=a&sid=b").is_err());
        let err = Form::parse(b"name=a%00b").expect_err("refused");
        assert!(err.0.contains("name"), "{err:?}");
    }
}
