//! An operator's and a person's changes to an account.

use entity::user;
use uuid::Uuid;

use super::ManageError;
use super::revocation::{self, Effects};
use crate::domain::Password;
use crate::metrics::SecurityEvent;
use crate::secrets::{self, SecretString};
use crate::store;

/// The user named by `who`: a user id, or else a username.
pub async fn find(fx: &Effects<'_>, who: &str) -> Result<user::Model, ManageError> {
    let found = match Uuid::parse_str(who) {
        Ok(id) => store::users::find(fx.db, id).await?,
        Err(_) => store::users::find_by_username(fx.db, who).await?,
    };
    found.ok_or_else(|| ManageError::UnknownUser(who.to_owned()))
}

/// Hashes a new password: in a server on its bounded pool, from the
/// command line directly.
async fn hash(fx: &Effects<'_>, password: Password) -> Result<String, ManageError> {
    Ok(match fx.state() {
        Some(state) => state.passwords.hash(password.into_secret()).await?,
        None => secrets::hash_password(password.into_secret()).await?,
    })
}

/// Disables the account: no sign-in, no token, no API key until enabled
/// again. Every session ends (their clients hear so) and everything handed
/// out is revoked. Disabling a disabled user changes nothing.
pub async fn disable(fx: &Effects<'_>, user: user::Model) -> Result<user::Model, ManageError> {
    if user.disabled_at.is_some() {
        return Ok(user);
    }
    store::users::set_disabled(fx.db, user.id, Some(fx.now)).await?;
    revocation::end_sessions_of_user(fx, user.id, None).await?;
    revocation::cut_off_user(fx, user.id).await?;
    fx.audit(SecurityEvent::AdminAction, "user.disable", &target(&user));
    Ok(user::Model {
        disabled_at: Some(fx.now),
        ..user
    })
}

/// Enables a disabled account. What was revoked stays revoked.
pub async fn enable(fx: &Effects<'_>, user: user::Model) -> Result<user::Model, ManageError> {
    if user.disabled_at.is_none() {
        return Ok(user);
    }
    store::users::set_disabled(fx.db, user.id, None).await?;
    fx.audit(SecurityEvent::AdminAction, "user.enable", &target(&user));
    Ok(user::Model {
        disabled_at: None,
        ..user
    })
}

/// An operator sets a password (a reset): every session ends and every
/// refresh token is revoked, as whoever knew the old one may hold them.
pub async fn set_password(
    fx: &Effects<'_>,
    user: &user::Model,
    password: String,
) -> Result<(), ManageError> {
    let hash = hash(fx, Password::parse(password)?).await?;
    store::users::set_password_hash(fx.db, user.id, hash).await?;
    revocation::end_sessions_of_user(fx, user.id, None).await?;
    store::refresh_tokens::revoke_of_user(fx.db, user.id, None, fx.now).await?;
    fx.audit(
        SecurityEvent::AdminAction,
        "user.set_password",
        &target(user),
    );
    Ok(())
}

/// A person changes their own password, proving the current one. Their
/// other sessions end and the refresh tokens not issued to this browser
/// session are revoked; this session carries on.
pub async fn change_password(
    fx: &Effects<'_>,
    user: &user::Model,
    current_session: &str,
    current: SecretString,
    new: String,
) -> Result<(), ManageError> {
    let state = fx
        .state()
        .ok_or_else(|| ManageError::Unavailable("a password change needs the server"))?;
    let verified = state
        .passwords
        .verify(current, Some(user.password_hash.clone()))
        .await?;
    if !verified {
        return Err(ManageError::WrongPassword);
    }
    let new = Password::parse(new)?;
    let hash = hash(fx, new).await?;
    store::users::set_password_hash(fx.db, user.id, hash).await?;
    revocation::end_sessions_of_user(fx, user.id, Some(current_session)).await?;
    revocation::revoke_grants_of_user_outside_session(fx, user.id, current_session).await?;
    fx.audit(
        SecurityEvent::PasswordChanged,
        "user.change_password",
        &target(user),
    );
    Ok(())
}

/// Deletes the account and everything that hangs on it, after revoking
/// what was handed out (sessions end first, so their clients hear so).
pub async fn delete(fx: &Effects<'_>, user: user::Model) -> Result<(), ManageError> {
    revocation::end_sessions_of_user(fx, user.id, None).await?;
    revocation::cut_off_user(fx, user.id).await?;
    store::users::delete(fx.db, user.id).await?;
    fx.audit(SecurityEvent::AdminAction, "user.delete", &target(&user));
    Ok(())
}

fn target(user: &user::Model) -> String {
    format!("user {} ({})", user.id, user.username)
}
