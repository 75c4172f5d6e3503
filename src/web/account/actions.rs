//! The account page's forms. Each one proves it came from the page with
//! the session's CSRF token, then calls the management operation that
//! does the work (`manage`), which audits it.

use poem::http::StatusCode;
use poem::web::cookie::CookieJar;
use poem::web::{Data, RemoteAddr};
use poem::{Body, Response, handler};
use tracing::info;

use super::view::{Messages, render_page};
use super::{Done, done, signed_in};
use crate::manage::{self, Actor, Effects, ManageError, ProfileUpdate, access, users};
use crate::secrets::{PasswordError, SecretString};
use crate::state::AppState;
use crate::web::form::Form;
use crate::web::pages::{SignedOutPage, error_page, internal_page, render};
use crate::web::session::{self, Session};
use crate::web::throttle;

/// The session and form of a valid submission, or the page to show instead.
async fn submission(
    state: &AppState,
    jar: &CookieJar,
    body: Body,
) -> Result<(Session, Form), Response> {
    let form = Form::read(body)
        .await
        .map_err(|e| error_page(StatusCode::BAD_REQUEST, "Bad form", &e.0))?;
    let session = signed_in(state, jar).await?;
    if !session.csrf_matches(form.get("csrf_token")) {
        return Err(expired());
    }
    Ok((session, form))
}

fn expired() -> Response {
    error_page(
        StatusCode::BAD_REQUEST,
        "This form has expired",
        "Nothing was changed. Open your account page again and retry.",
    )
}

fn effects<'a>(state: &'a AppState, session: &Session) -> Effects<'a> {
    Effects::server(state, Actor::User(session.user.id))
}

/// Name and email: an emptied field removes it.
#[handler]
pub async fn save_profile(jar: &CookieJar, body: Body, state: Data<&AppState>) -> Response {
    let (session, form) = match submission(&state, jar, body).await {
        Ok(s) => s,
        Err(page) => return page,
    };
    let (name, email) = (form.get("name"), form.get("email"));
    let update = ProfileUpdate {
        name: Some(name.to_owned()),
        email: Some(email.to_owned()),
        email_verified: None,
    };
    let now = state.clock.now();
    match manage::update_user_profile(&state.db, &session.user.username, update, now).await {
        Ok(_) => {
            info!(user_id = %session.user.id, "profile updated");
            done(Done::Profile)
        }
        Err(ManageError::Invalid(e)) => {
            let message = format!("Your profile was not saved: {e}.");
            let messages = Messages {
                profile_error: Some(&message),
                submitted: Some((name, email)),
                ..Messages::default()
            };
            render_page(&state, &session, messages, StatusCode::BAD_REQUEST).await
        }
        Err(e) => internal_page("updating a profile failed", e),
    }
}

/// The current password, and the new one twice. Other sessions end and
/// refresh tokens issued outside this session are revoked
/// (`users::change_password`).
#[handler]
pub async fn change_password(
    jar: &CookieJar,
    remote: &RemoteAddr,
    body: Body,
    state: Data<&AppState>,
) -> Response {
    let (session, form) = match submission(&state, jar, body).await {
        Ok(s) => s,
        Err(page) => return page,
    };
    let (current, new, repeat) = (
        form.get("current_password"),
        form.get("new_password"),
        form.get("repeat_password"),
    );
    let refused = |message: String, status| {
        let state = &state;
        let session = &session;
        async move {
            let messages = Messages {
                password_error: Some(&message),
                ..Messages::default()
            };
            render_page(state, session, messages, status).await
        }
    };
    if current.is_empty() {
        return refused(
            "Enter your current password.".to_owned(),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    if new != repeat {
        return refused(
            "The new password and its repetition differ.".to_owned(),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    // Wrong current passwords count as failed sign-ins: whoever holds a
    // stolen session cookie must not get unbounded guesses.
    let address = remote.as_socket_addr().map(|a| a.ip());
    let attempt = throttle::Attempt::new(&session.user.username, address);
    match throttle::locked_until(&state, &attempt, false).await {
        Ok(None) => {}
        Ok(Some(until)) => {
            let seconds = throttle::retry_after(&state, until);
            return refused(
                format!("Too many wrong passwords. Try again in {seconds} seconds."),
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await;
        }
        Err(e) => return internal_page("login throttle lookup failed", e),
    }
    let fx = effects(&state, &session);
    let result = users::change_password(
        &fx,
        &session.user,
        &session.record.id_hash,
        SecretString::new(current.to_owned()),
        new.to_owned(),
    )
    .await;
    match result {
        Ok(()) => done(Done::Password),
        Err(ManageError::WrongPassword) => {
            if let Err(e) = throttle::failed(&state, &attempt).await {
                return internal_page("counting a wrong password failed", e);
            }
            refused(
                "The current password is wrong. Nothing was changed.".to_owned(),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(ManageError::Invalid(e)) => {
            refused(
                format!("The new password was refused: {e}."),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(ManageError::Password(PasswordError::Busy)) => {
            refused(
                "The server is busy right now. Please try again in a moment.".to_owned(),
                StatusCode::SERVICE_UNAVAILABLE,
            )
            .await
        }
        Err(e) => internal_page("changing a password failed", e),
    }
}

/// Takes back what the person allowed an app (`access::revoke_app`).
#[handler]
pub async fn revoke_app(jar: &CookieJar, body: Body, state: Data<&AppState>) -> Response {
    let (session, form) = match submission(&state, jar, body).await {
        Ok(s) => s,
        Err(page) => return page,
    };
    let fx = effects(&state, &session);
    match access::revoke_app(&fx, session.user.id, form.get("client_id")).await {
        Ok(()) => done(Done::App),
        Err(ManageError::UnknownConsent(_)) => error_page(
            StatusCode::NOT_FOUND,
            "Nothing to revoke",
            "That app has no access to your account. Open your account page again to see which do.",
        ),
        Err(e) => internal_page("revoking an app failed", e),
    }
}

/// Ends one session, by its public id. This browser's own is a sign-out.
#[handler]
pub async fn end_session(jar: &CookieJar, body: Body, state: Data<&AppState>) -> Response {
    let (session, form) = match submission(&state, jar, body).await {
        Ok(s) => s,
        Err(page) => return page,
    };
    let sid = form.get("sid");
    if sid == session.record.sid {
        return sign_out(&state, jar, session).await;
    }
    let fx = effects(&state, &session);
    match access::end_session(&fx, session.user.id, sid).await {
        Ok(()) => done(Done::Session),
        Err(ManageError::UnknownSession(_)) => error_page(
            StatusCode::NOT_FOUND,
            "No such session",
            "That session has already ended. Open your account page again to see the others.",
        ),
        Err(e) => internal_page("ending a session failed", e),
    }
}

/// Ends every session of the person but this one.
#[handler]
pub async fn end_other_sessions(jar: &CookieJar, body: Body, state: Data<&AppState>) -> Response {
    let (session, _) = match submission(&state, jar, body).await {
        Ok(s) => s,
        Err(page) => return page,
    };
    let fx = effects(&state, &session);
    match access::end_all_sessions(&fx, session.user.id, Some(&session.record.id_hash)).await {
        Ok(_) => done(Done::OtherSessions),
        Err(e) => internal_page("ending sessions failed", e),
    }
}

/// POST /logout: ends this browser's session and shows the signed-out
/// page. Someone already signed out just sees that page.
#[handler]
pub async fn logout(jar: &CookieJar, body: Body, state: Data<&AppState>) -> Response {
    let form = match Form::read(body).await {
        Ok(form) => form,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, "Bad form", &e.0),
    };
    let session = match session::current(&state, jar).await {
        Ok(Some(session)) => session,
        Ok(None) => return render(&SignedOutPage, StatusCode::OK),
        Err(e) => return internal_page("session lookup failed", e),
    };
    if !session.csrf_matches(form.get("csrf_token")) {
        return expired();
    }
    sign_out(&state, jar, session).await
}

async fn sign_out(state: &AppState, jar: &CookieJar, session: Session) -> Response {
    match session::end(state, jar, session).await {
        Ok(()) => render(&SignedOutPage, StatusCode::OK),
        Err(e) => internal_page("ending a session failed", e),
    }
}
