use chrono::{DateTime, Utc};
use poem_openapi::Object;
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

/// What a client sends to create or replace a post.
#[derive(Debug, Clone, Object)]
pub struct PostInput {
    /// 1 to 200 characters.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub title: String,
    /// At most 100 KiB.
    #[oai(validator(max_length = 102400))]
    pub body: String,
    /// Drafts (false, the default) are visible only to their author.
    pub published: Option<bool>,
}

/// One page of posts, newest first.
#[derive(Debug, Clone, Object)]
pub struct PostPage {
    pub items: Vec<Post>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}
