use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};
use uuid::Uuid;

use super::models::{Post, PostInput, PostPage};
use super::{ApiError, pagination};
use crate::auth::{Credentials, Principal};
use crate::db::readers::inline_or;
use crate::domain::{PostBody, PostTitle, Scope};
use crate::state::AppState;
use crate::store::posts::{self, Author, PostContent, Visibility};

#[derive(Tags)]
enum ApiTags {
    /// Blog posts
    Posts,
}

pub struct PostsApi;

#[derive(ApiResponse)]
pub enum CreatedPost {
    /// The post was created.
    #[oai(status = 201)]
    Created(
        Json<Post>,
        /// Where the new post lives.
        #[oai(header = "Location")]
        String,
    ),
}

#[derive(ApiResponse)]
pub enum DeletedPost {
    /// The post is gone.
    #[oai(status = 204)]
    Deleted,
}

const DEFAULT_LIMIT: u32 = 20;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Posts")]
impl PostsApi {
    /// List posts, newest first
    ///
    /// Published posts, plus the caller's own drafts (every draft with
    /// `blog:admin`). Follow `next_cursor` for older posts.
    #[oai(path = "/posts", method = "get", operation_id = "list_posts")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
        /// Page size, 1 to 100 (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// The `next_cursor` of the previous page, unchanged (11 characters;
        /// empty or absent for the first page).
        #[oai(validator(pattern = "^([A-Za-f][A-Za-z0-9_-]{9}[AEIMQUYcgkosw048])?$"))]
        cursor: Query<Option<String>>,
    ) -> Result<Json<PostPage>, ApiError> {
        let principal = auth.require(&state.auth, Scope::BlogRead).await?;
        let before = match cursor.0.as_deref() {
            None | Some("") => None,
            Some(c) => Some(
                pagination::decode(c)
                    .ok_or_else(|| ApiError::bad_request(pagination::MALFORMED))?,
            ),
        };
        let limit = u64::from(limit.0.unwrap_or(DEFAULT_LIMIT));
        let subject = principal.subject.key();
        let visibility = visibility(&principal, &subject);
        let key = format!(
            "{}|{}|{limit}",
            match visibility {
                Visibility::All => "*",
                Visibility::PublishedOr(s) => s,
            },
            before.unwrap_or(0)
        );
        let rows = match state.read_cache.page(&key) {
            Some(rows) => rows,
            None => {
                let generation = state.read_cache.generation();
                // One extra row tells whether another page exists.
                let rows = Arc::new(posts::page(&state.db, visibility, before, limit + 1).await?);
                state.read_cache.put_page(&key, rows.clone(), generation);
                rows
            }
        };
        let shown = &rows[..rows.len().min(limit as usize)];
        let next_cursor = if rows.len() as u64 > limit {
            shown.last().map(|p| pagination::encode(p.seq))
        } else {
            None
        };
        Ok(Json(PostPage {
            items: shown.iter().cloned().map(Post::from).collect(),
            next_cursor,
        }))
    }

    /// Create a post
    #[oai(path = "/posts", method = "post", operation_id = "create_post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
        input: Json<PostInput>,
    ) -> Result<CreatedPost, ApiError> {
        let principal = auth.require(&state.auth, Scope::BlogWrite).await?;
        let content = content(input.0)?;
        let author = Author {
            name: principal.subject.display_name(),
            subject: &principal.subject.key(),
        };
        let post = posts::create(&state.db, content, author, state.clock.now()).await?;
        state.read_cache.invalidate();
        let location = format!("/api/v1/posts/{}", post.id);
        Ok(CreatedPost::Created(Json(post.into()), location))
    }

    /// Get a post
    #[oai(path = "/posts/:id", method = "get", operation_id = "get_post")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
        id: Path<Uuid>,
    ) -> Result<Json<Post>, ApiError> {
        let principal = auth.require(&state.auth, Scope::BlogRead).await?;
        let post = find_visible(&state, &principal, id.0, Read::Cached).await?;
        Ok(Json(post.into()))
    }

    /// Replace a post
    ///
    /// Only its author may, or a caller with `blog:admin`.
    #[oai(path = "/posts/:id", method = "put", operation_id = "update_post")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
        id: Path<Uuid>,
        input: Json<PostInput>,
    ) -> Result<Json<Post>, ApiError> {
        let principal = auth.require(&state.auth, Scope::BlogWrite).await?;
        let content = content(input.0)?;
        let post = find_visible(&state, &principal, id.0, Read::Fresh).await?;
        ensure_may_edit(&principal, &post)?;
        let post = posts::update(&state.db, post, content, state.clock.now()).await?;
        state.read_cache.invalidate();
        Ok(Json(post.into()))
    }

    /// Delete a post
    ///
    /// Only its author may, or a caller with `blog:admin`.
    #[oai(path = "/posts/:id", method = "delete", operation_id = "delete_post")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
        id: Path<Uuid>,
    ) -> Result<DeletedPost, ApiError> {
        let principal = auth.require(&state.auth, Scope::BlogWrite).await?;
        let post = find_visible(&state, &principal, id.0, Read::Fresh).await?;
        ensure_may_edit(&principal, &post)?;
        posts::delete(&state.db, post).await?;
        state.read_cache.invalidate();
        Ok(DeletedPost::Deleted)
    }
}

fn visibility<'a>(principal: &Principal, subject: &'a str) -> Visibility<'a> {
    if principal.has_scope(Scope::BlogAdmin) {
        Visibility::All
    } else {
        Visibility::PublishedOr(subject)
    }
}

fn content(input: PostInput) -> Result<PostContent, ApiError> {
    Ok(PostContent {
        title: PostTitle::parse(input.title).map_err(ApiError::unprocessable)?,
        body: PostBody::parse(input.body).map_err(ApiError::unprocessable)?,
        published: input.published.unwrap_or(false),
    })
}

/// Writes decide on the row as it is now; reads may take a cached copy.
enum Read {
    Cached,
    Fresh,
}

/// A draft of someone else's is answered as absent, not forbidden, so that
/// its existence does not leak.
async fn find_visible(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    read: Read,
) -> Result<entity::post::Model, ApiError> {
    let key = id.to_string();
    let cached = match read {
        Read::Cached => state.read_cache.post(&key),
        Read::Fresh => None,
    };
    let post = match cached {
        Some(post) => post,
        None => {
            let generation = state.read_cache.generation();
            let found = inline_or(
                state.readers.as_deref(),
                |r| r.post_by_id(id),
                posts::find(&state.db, id),
            )
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no post with id {id}")))?;
            let found = Arc::new(found);
            state.read_cache.put_post(&key, found.clone(), generation);
            found
        }
    };
    let visible = post.published
        || post.author_sub == principal.subject.key()
        || principal.has_scope(Scope::BlogAdmin);
    if visible {
        Ok((*post).clone())
    } else {
        Err(ApiError::not_found(format!("no post with id {id}")))
    }
}

fn ensure_may_edit(principal: &Principal, post: &entity::post::Model) -> Result<(), ApiError> {
    if post.author_sub == principal.subject.key() || principal.has_scope(Scope::BlogAdmin) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only the post's author (or blog:admin) may change it",
        ))
    }
}
