use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, OpenApi};
use uuid::Uuid;

use super::error::AdminError;
use super::models::{AdminUser, PasswordInput, UserInput, UserPage, UserPatch};
use super::{AdminTags, Done, PREFIX, admin};
use crate::auth::Credentials;
use crate::manage::{self, Effects, ProfileRequest, ProfileUpdate, users};
use crate::metrics::SecurityEvent;
use crate::state::AppState;
use crate::store;

pub struct UsersApi;

#[derive(ApiResponse)]
pub enum UserCreated {
    /// The user exists.
    #[oai(status = 201)]
    Created(
        Json<AdminUser>,
        /// Where the new user lives.
        #[oai(header = "Location")]
        String,
    ),
}

const DEFAULT_LIMIT: u32 = 20;

/// The user with this id, or 404.
pub(super) async fn user(fx: &Effects<'_>, id: Uuid) -> Result<entity::user::Model, AdminError> {
    users::find(fx, &id.to_string()).await.map_err(Into::into)
}

#[OpenApi(prefix_path = "/admin/v1", tag = "AdminTags::Admin")]
impl UsersApi {
    /// List users, by username
    ///
    /// Follow `next_cursor` for the next page.
    #[oai(path = "/users", method = "get", operation_id = "admin_list_users")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
        /// Page size, 1 to 100 (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// The `next_cursor` of the previous page: the page starts after
        /// this username (any text works; names compare case-insensitively).
        #[oai(validator(max_length = 256))]
        cursor: Query<Option<String>>,
    ) -> Result<Json<UserPage>, AdminError> {
        let fx = admin(&state, &auth).await?;
        let limit = u64::from(limit.0.unwrap_or(DEFAULT_LIMIT));
        let after = cursor.0.filter(|c| !c.is_empty());
        // One extra row tells whether another page exists.
        let mut rows = store::users::page(fx.db, after.as_deref(), limit + 1).await?;
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = more
            .then(|| rows.last().map(|u| u.username.clone()))
            .flatten();
        Ok(Json(UserPage {
            items: rows.into_iter().map(AdminUser::from).collect(),
            next_cursor,
        }))
    }

    /// Create a user
    #[oai(path = "/users", method = "post", operation_id = "admin_create_user")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
        input: Json<UserInput>,
    ) -> Result<UserCreated, AdminError> {
        let fx = admin(&state, &auth).await?;
        let input = input.0;
        let profile = ProfileRequest {
            name: input.name,
            email: input.email,
            email_verified: input.email_verified,
        };
        let user =
            manage::create_user(fx.db, &input.username, input.password, profile, fx.now).await?;
        fx.audit(
            SecurityEvent::AdminAction,
            "user.create",
            &format!("user {} ({})", user.id, user.username),
        );
        let location = format!("{PREFIX}/users/{}", user.id);
        Ok(UserCreated::Created(Json(user.into()), location))
    }

    /// Get a user
    #[oai(path = "/users/:id", method = "get", operation_id = "admin_get_user")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
        id: Path<Uuid>,
    ) -> Result<Json<AdminUser>, AdminError> {
        let fx = admin(&state, &auth).await?;
        Ok(Json(user(&fx, id.0).await?.into()))
    }

    /// Change a user's profile
    #[oai(
        path = "/users/:id",
        method = "patch",
        operation_id = "admin_update_user"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
        id: Path<Uuid>,
        patch: Json<UserPatch>,
    ) -> Result<Json<AdminUser>, AdminError> {
        let fx = admin(&state, &auth).await?;
        let found = user(&fx, id.0).await?;
        // `null` removes, as an empty string does for `update_user_profile`.
        let field = |v: MaybeUndefined<String>| match v {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(String::new()),
            MaybeUndefined::Value(s) => Some(s),
        };
        let patch = patch.0;
        let update = ProfileUpdate {
            name: field(patch.name),
            email: field(patch.email),
            email_verified: patch.email_verified,
        };
        let updated = manage::update_user_profile(fx.db, &found.username, update, fx.now).await?;
        fx.audit(
            SecurityEvent::AdminAction,
            "user.update",
            &format!("user {} ({})", updated.id, updated.username),
        );
        Ok(Json(updated.into()))
    }

    /// Delete a user
    ///
    /// Their sessions end and everything handed out to them is revoked
    /// first; their posts stay.
    #[oai(
        path = "/users/:id",
        method = "delete",
        operation_id = "admin_delete_user"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
        id: Path<Uuid>,
    ) -> Result<Done, AdminError> {
        let fx = admin(&state, &auth).await?;
        users::delete(&fx, user(&fx, id.0).await?).await?;
        Ok(Done::Done)
    }

    /// Disable a user
    ///
    /// No sign-in, token or API key until enabled again; their sessions end
    /// and their tokens are revoked.
    #[oai(
        path = "/users/:id/disable",
        method = "post",
        operation_id = "admin_disable_user"
    )]
    async fn disable(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
        id: Path<Uuid>,
    ) -> Result<Json<AdminUser>, AdminError> {
        let fx = admin(&state, &auth).await?;
        let disabled = users::disable(&fx, user(&fx, id.0).await?).await?;
        Ok(Json(disabled.into()))
    }

    /// Enable a disabled user
    ///
    /// What was revoked stays revoked.
    #[oai(
        path = "/users/:id/enable",
        method = "post",
        operation_id = "admin_enable_user"
    )]
    async fn enable(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
        id: Path<Uuid>,
    ) -> Result<Json<AdminUser>, AdminError> {
        let fx = admin(&state, &auth).await?;
        let enabled = users::enable(&fx, user(&fx, id.0).await?).await?;
        Ok(Json(enabled.into()))
    }

    /// Set a user's password
    ///
    /// A reset: every session of theirs ends and their refresh tokens are
    /// revoked.
    #[oai(
        path = "/users/:id/password",
        method = "put",
        operation_id = "admin_set_user_password"
    )]
    async fn set_password(
        &self,
        state: Data<&AppState>,
        auth: Credentials,
        id: Path<Uuid>,
        input: Json<PasswordInput>,
    ) -> Result<Done, AdminError> {
        let fx = admin(&state, &auth).await?;
        let found = user(&fx, id.0).await?;
        users::set_password(&fx, &found, input.0.password).await?;
        Ok(Done::Done)
    }
}
