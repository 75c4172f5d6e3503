//! GET/POST /oauth/logout: ends the browser session.

use poem::http::StatusCode;
use poem::web::Data;
use poem::web::cookie::CookieJar;
use poem::{Body, Response, handler};

use super::params::Params;
use crate::state::AppState;
use crate::web::pages::{LogoutPage, error_page, internal_page, render};
use crate::web::session;

#[handler]
pub async fn get(jar: &CookieJar, state: Data<&AppState>) -> Response {
    match session::current(&state, jar).await {
        Ok(s) => render(
            &LogoutPage {
                username: s.as_ref().map(|s| s.user.username.as_str()),
                csrf_token: s
                    .as_ref()
                    .map(|s| s.record.csrf_token.as_str())
                    .unwrap_or(""),
                signed_out: false,
            },
            StatusCode::OK,
        ),
        Err(e) => internal_page("session lookup failed", e),
    }
}

#[handler]
pub async fn post(jar: &CookieJar, body: Body, state: Data<&AppState>) -> Response {
    let form = match body.into_bytes_limit(4096).await {
        Ok(b) => Params::parse(&b),
        Err(_) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "Bad form",
                "The form could not be read.",
            );
        }
    };
    let signed_out = LogoutPage {
        username: None,
        csrf_token: "",
        signed_out: true,
    };
    match session::current(&state, jar).await {
        Ok(Some(s)) => {
            if !s.csrf_matches(form.get("csrf_token").unwrap_or("")) {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "This form has expired",
                    "Reload the page and try again.",
                );
            }
            if let Err(e) = session::end(&state, jar, s).await {
                return internal_page("ending a session failed", e);
            }
            render(&signed_out, StatusCode::OK)
        }
        Ok(None) => render(&signed_out, StatusCode::OK),
        Err(e) => internal_page("session lookup failed", e),
    }
}
