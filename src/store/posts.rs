use chrono::{DateTime, Utc};
use entity::post;
use sea_orm::sea_query::Condition;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    ModelTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::domain::{PostBody, PostTitle};

/// What a post's content is made of, validated.
pub struct PostContent {
    pub title: PostTitle,
    pub body: PostBody,
    pub published: bool,
}

/// Who is writing: shown name and ownership subject.
pub struct Author<'a> {
    pub name: &'a str,
    pub subject: &'a str,
}

/// Which posts a reader may see.
pub enum Visibility<'a> {
    /// Every post (blog:admin).
    All,
    /// Published posts and this subject's own drafts.
    PublishedOr(&'a str),
}

pub async fn create(
    db: &impl ConnectionTrait,
    content: PostContent,
    author: Author<'_>,
    now: DateTime<Utc>,
) -> Result<post::Model, DbErr> {
    post::ActiveModel {
        seq: sea_orm::NotSet,
        id: Set(Uuid::new_v4()),
        title: Set(content.title.into_inner()),
        body: Set(content.body.into_inner()),
        published: Set(content.published),
        author: Set(author.name.to_owned()),
        author_sub: Set(author.subject.to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<post::Model>, DbErr> {
    post::Entity::find()
        .filter(post::Column::Id.eq(id))
        .one(db)
        .await
}

/// Newest first, strictly older than `before_seq`; `limit` rows at most.
pub async fn page(
    db: &impl ConnectionTrait,
    visibility: Visibility<'_>,
    before_seq: Option<i64>,
    limit: u64,
) -> Result<Vec<post::Model>, DbErr> {
    let mut query = post::Entity::find();
    if let Visibility::PublishedOr(subject) = visibility {
        query = query.filter(
            Condition::any()
                .add(post::Column::Published.eq(true))
                .add(post::Column::AuthorSub.eq(subject)),
        );
    }
    if let Some(seq) = before_seq {
        query = query.filter(post::Column::Seq.lt(seq));
    }
    query
        .order_by_desc(post::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

pub async fn update(
    db: &impl ConnectionTrait,
    existing: post::Model,
    content: PostContent,
    now: DateTime<Utc>,
) -> Result<post::Model, DbErr> {
    let mut active = existing.into_active_model();
    active.title = Set(content.title.into_inner());
    active.body = Set(content.body.into_inner());
    active.published = Set(content.published);
    active.updated_at = Set(now);
    active.update(db).await
}

pub async fn delete(db: &impl ConnectionTrait, existing: post::Model) -> Result<(), DbErr> {
    existing.delete(db).await.map(|_| ())
}
