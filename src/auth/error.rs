//! Why a caller of the resource API was turned away. The API turns these
//! into RFC 6750 answers (`api::ApiError`); `auth` knows nothing of HTTP
//! bodies.

use crate::domain::Scope;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No credentials, or ones that are unknown, revoked or expired: a 401
    /// with `error="invalid_token"`. The text is safe to send back.
    #[error("{0}")]
    InvalidToken(&'static str),
    /// Valid credentials without the scope: a 403 with
    /// `error="insufficient_scope"`.
    #[error("this needs the {0} scope")]
    InsufficientScope(Scope),
    /// A failure on our side, logged where it becomes a 500.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for AuthError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Internal(e.into())
    }
}
