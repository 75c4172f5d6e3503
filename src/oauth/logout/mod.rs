//! The end-session endpoint, GET and POST /oauth/logout (OpenID Connect
//! RP-Initiated Logout 1.0).
//!
//! - A valid `id_token_hint` naming this browser's session: the session
//!   ends at once, then the person goes back to the client's registered
//!   `post_logout_redirect_uri` (or sees the signed-out page).
//! - No session: nothing to end; back to the client, or the signed-out page.
//! - Anything else (no hint, a hint we did not issue, one for another
//!   person or session): a page asks the person to confirm. Its form comes
//!   back here with the session's CSRF token.
//!
//! `request` checks the parameters; nothing redirects except through its
//! `PostLogoutRedirect`.

mod hint;
mod request;

use poem::http::StatusCode;
use poem::http::header::{CACHE_CONTROL, LOCATION};
use poem::web::Data;
use poem::web::cookie::CookieJar;
use poem::{Body, Request, Response, handler};

use self::request::{LogoutRequest, PARAMETERS, PostLogoutRedirect};
use super::LOGOUT_PATH;
use super::params::Params;
use crate::state::AppState;
use crate::web::cookies::{self, CookieName};
use crate::web::pages::{
    LogoutPage, ReturnTo, SignedOutPage, error_page, internal_page, render, render_form,
};
use crate::web::session::{self, Session};

/// No legitimate form comes near this; an ID token is a few KiB at most.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// GET: the client sends the person here (§2: parameters in the query).
#[handler]
pub async fn get(req: &Request, jar: &CookieJar, state: Data<&AppState>) -> Response {
    let params = Params::parse(req.uri().query().unwrap_or("").as_bytes());
    end_session(&state, jar, &params).await
}

/// POST: the confirmation form (it carries `csrf_token`), or a client's
/// own form-encoded request (§2: the OP supports POST too).
#[handler]
pub async fn post(jar: &CookieJar, body: Body, state: Data<&AppState>) -> Response {
    let params = match body.into_bytes_limit(MAX_FORM_BYTES).await {
        Ok(b) => Params::parse(&b),
        Err(_) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "Bad form",
                "The form could not be read.",
            );
        }
    };
    if params.get("csrf_token").is_some() {
        return confirmed(&state, jar, &params).await;
    }
    // A client's form POSTed from its own site brings no session cookie
    // (SameSite=Lax keeps it off cross-site POSTs), so "no session" here
    // may be wrong. The same request as a GET, a top-level navigation,
    // brings it.
    if cookies::get(&state.settings, jar, CookieName::Session).is_none() {
        return match request::check_form(&params) {
            Ok(()) => as_get(&params),
            Err(e) => e.into_response(),
        };
    }
    end_session(&state, jar, &params).await
}

async fn end_session(state: &AppState, jar: &CookieJar, params: &Params) -> Response {
    let request = match request::validate(state, params).await {
        Ok(request) => request,
        Err(e) => return e.into_response(),
    };
    let session = match session::current(state, jar).await {
        Ok(session) => session,
        Err(e) => return internal_page("session lookup failed", e),
    };
    match session {
        None => signed_out(request.redirect.as_ref()),
        Some(s) if request.hint_matches(&s) => end_and_leave(state, jar, s, &request).await,
        Some(s) => confirmation_page(&s, &request),
    }
}

/// The confirmation form came back. Its hidden fields are checked again
/// like any request: they came through the browser.
async fn confirmed(state: &AppState, jar: &CookieJar, params: &Params) -> Response {
    let request = match request::validate(state, params).await {
        Ok(request) => request,
        Err(e) => return e.into_response(),
    };
    match session::current(state, jar).await {
        Ok(Some(s)) => {
            if !s.csrf_matches(params.get("csrf_token").unwrap_or("")) {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "This form has expired",
                    "Reload the page and try again.",
                );
            }
            end_and_leave(state, jar, s, &request).await
        }
        // Signed out meanwhile (another tab): nothing left to end.
        Ok(None) => signed_out(request.redirect.as_ref()),
        Err(e) => internal_page("session lookup failed", e),
    }
}

async fn end_and_leave(
    state: &AppState,
    jar: &CookieJar,
    session: Session,
    request: &LogoutRequest,
) -> Response {
    if let Err(e) = session::end(state, jar, session).await {
        return internal_page("ending a session failed", e);
    }
    signed_out(request.redirect.as_ref())
}

/// Back to the client when it may be, else the signed-out page.
fn signed_out(redirect: Option<&PostLogoutRedirect>) -> Response {
    match redirect {
        Some(redirect) => redirect.answer(),
        None => render(&SignedOutPage, StatusCode::OK),
    }
}

fn confirmation_page(session: &Session, request: &LogoutRequest) -> Response {
    let return_to = match (&request.client, &request.redirect) {
        (Some(client), Some(redirect)) => Some(ReturnTo {
            client_id: &client.id,
            client_name: &client.name,
            post_logout_redirect_uri: redirect.uri(),
            state: redirect.state(),
        }),
        _ => None,
    };
    let page = LogoutPage {
        username: &session.user.username,
        action: LOGOUT_PATH,
        csrf_token: &session.record.csrf_token,
        return_to,
    };
    // The form's answer redirects to the client: its origin joins the
    // CSP's form-action.
    let redirect_to = request.redirect.as_ref().map(PostLogoutRedirect::uri);
    render_form(&page, StatusCode::OK, redirect_to)
}

/// 303 to the GET form of the same request, with only the parameters §2
/// defines (the form was checked: each appears once).
fn as_get(params: &Params) -> Response {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for name in PARAMETERS {
        if let Some(value) = params.get(name) {
            query.append_pair(name, value);
        }
    }
    let query = query.finish();
    let location = if query.is_empty() {
        LOGOUT_PATH.to_owned()
    } else {
        format!("{LOGOUT_PATH}?{query}")
    };
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(LOCATION, location)
        .header(CACHE_CONTROL, "no-store")
        .finish()
}
