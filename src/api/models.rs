use chrono::{DateTime, Utc};
use poem_openapi::Object;
use poem_openapi::types::{ParseError, ParseResult};
use serde_json::Value;
use uuid::Uuid;

/// A blog post.
#[derive(Debug, Clone, Object)]
pub struct Post {
    pub id: Uuid,
    pub title: String,
    pub body: String,
    pub published: bool,
    /// Username, or `client_id` for a client acting on its own behalf.
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<entity::post::Model> for Post {
    fn from(m: entity::post::Model) -> Self {
        Self {
            id: m.id,
            title: m.title,
            body: m.body,
            published: m.published,
            author: m.author,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// Documented for `title` (see `document.rs`): no control character, and
/// something other than whitespace, as `PostTitle::parse` requires.
/// Written for both Rust's and ECMA/Python regexes.
pub const TITLE_PATTERN: &str = "^[^\\x00-\\x1F\\x7F-\\x9F]*[^\\x00-\\x20\\x7F-\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000][^\\x00-\\x1F\\x7F-\\x9F]*$";

/// Documented for `body`: no control character but tabs and line breaks,
/// as `PostBody::parse` requires.
pub const BODY_PATTERN: &str = "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*$";

/// What a client sends to create or replace a post.
#[derive(Debug, Clone, Object)]
pub struct PostInput {
    /// 1 to 200 characters, not only whitespace, no control characters.
    #[oai(
        validator(min_length = 1, max_length = 200),
        deserialize_with = "title_string"
    )]
    pub title: String,
    /// At most 100 KiB (102,400 bytes of UTF-8); no control characters
    /// but tabs and line breaks.
    #[oai(validator(max_length = 102400), deserialize_with = "body_string")]
    pub body: String,
    /// Drafts (false, the default) are visible only to their author.
    /// Absent or null: false.
    #[oai(nullable)]
    pub published: Option<bool>,
}

/// Only a JSON string: poem-openapi's `String` also takes `false` or `42`
/// and keeps their text, where the schema says `"type": "string"`.
fn string_field(field: &str, value: Option<Value>) -> ParseResult<String> {
    match value {
        Some(Value::String(s)) => Ok(s),
        None => Err(ParseError::custom(format!("{field} is required"))),
        Some(other) => Err(ParseError::custom(format!(
            "{field} must be a string, not {other}"
        ))),
    }
}

fn title_string(value: Option<Value>) -> ParseResult<String> {
    string_field("title", value)
}

fn body_string(value: Option<Value>) -> ParseResult<String> {
    string_field("body", value)
}

/// One page of posts, newest first.
#[derive(Debug, Clone, Object)]
pub struct PostPage {
    pub items: Vec<Post>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}
