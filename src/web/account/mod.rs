//! The account page, `/account`: a person's profile, password, connected
//! apps and browser sessions, each with its form. Every action posts to
//! its own path (`actions`) with the session's CSRF token and comes back
//! here (Post/Redirect/Get), naming what it did in `?done=`.

mod actions;
mod device;
mod view;

pub use actions::{
    change_password, end_other_sessions, end_session, logout, revoke_app, save_profile,
};

use poem::http::StatusCode;
use poem::web::Data;
use poem::web::cookie::CookieJar;
use poem::{Request, Response, handler};

use self::view::{Messages, render_page};
use super::pages::{internal_page, see_other};
use super::session::{self, Session};
use super::{ACCOUNT_PATH, LOGIN_PATH};
use crate::state::AppState;

#[handler]
pub async fn show(req: &Request, jar: &CookieJar, state: Data<&AppState>) -> Response {
    let session = match signed_in(&state, jar).await {
        Ok(session) => session,
        Err(page) => return page,
    };
    let done = req
        .uri()
        .query()
        .and_then(|q| url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "done"))
        .map(|(_, v)| v.into_owned());
    let messages = Messages {
        notice: done.as_deref().and_then(Done::notice),
        ..Messages::default()
    };
    render_page(&state, &session, messages, StatusCode::OK).await
}

/// What an action did, named in the redirect back to the page. Only these
/// fixed sentences are ever shown, never text from the query.
#[derive(Clone, Copy)]
enum Done {
    Profile,
    Password,
    App,
    Session,
    OtherSessions,
}

impl Done {
    fn as_str(self) -> &'static str {
        match self {
            Self::Profile => "profile",
            Self::Password => "password",
            Self::App => "app",
            Self::Session => "session",
            Self::OtherSessions => "other-sessions",
        }
    }

    fn notice(name: &str) -> Option<&'static str> {
        Some(match name {
            "profile" => "Your profile was saved.",
            "password" => "Your password was changed. Your other sessions were signed out.",
            "app" => "The app's access was revoked: it can no longer use your account.",
            "session" => "The session was ended.",
            "other-sessions" => "All your other sessions were ended.",
            _ => return None,
        })
    }
}

/// The page again, saying what was done.
fn done(what: Done) -> Response {
    see_other(&format!("{ACCOUNT_PATH}?done={}", what.as_str()))
}

/// The browser's live session, or the redirect to sign in and come back.
async fn signed_in(state: &AppState, jar: &CookieJar) -> Result<Session, Response> {
    match session::current(state, jar).await {
        Ok(Some(session)) => Ok(session),
        Ok(None) => {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("return_to", ACCOUNT_PATH)
                .finish();
            Err(see_other(&format!("{LOGIN_PATH}?{query}")))
        }
        Err(e) => Err(internal_page("session lookup failed", e)),
    }
}
