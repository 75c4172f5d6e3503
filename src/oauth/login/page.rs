//! GET/POST /login: the login form on its own, for pages of ours (the
//! account page) rather than for a client. `?return_to=` says where to go
//! afterwards; only a path on this server is followed, so that the page
//! cannot be used to send someone elsewhere (an open redirect).

use poem::http::StatusCode;
use poem::web::Data;
use poem::web::cookie::CookieJar;
use poem::{Body, Request, Response, handler};

use super::{Client, LoginForm};
use crate::oauth::params::Params;
use crate::state::AppState;
use crate::web::pages::{error_page, internal_page, see_other};
use crate::web::session;
use crate::web::{ACCOUNT_PATH, LOGIN_PATH};

/// A login form is small; anything larger is not ours.
const MAX_FORM_BYTES: usize = 16 * 1024;
/// Longer than any path of ours.
const MAX_RETURN_TO_CHARS: usize = 512;

#[handler]
pub async fn get(req: &Request, jar: &CookieJar, state: Data<&AppState>) -> Response {
    let return_to = return_to(req);
    match session::current(&state, jar).await {
        Ok(Some(_)) => see_other(&return_to),
        Ok(None) => {
            let action = action(&return_to);
            super::show(&state, jar, &form(&action), "", None, StatusCode::OK, false)
        }
        Err(e) => internal_page("session lookup failed", e),
    }
}

#[handler]
pub async fn post(req: &Request, jar: &CookieJar, body: Body, state: Data<&AppState>) -> Response {
    let return_to = return_to(req);
    let Ok(bytes) = body.into_bytes_limit(MAX_FORM_BYTES).await else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Bad form",
            "The form could not be read.",
        );
    };
    let fields = Params::parse(&bytes);
    if let Some(name) = fields.with_control_character() {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Bad form",
            &format!("The field {name} contains characters that are not allowed."),
        );
    }
    let action = action(&return_to);
    match super::submit(&state, jar, &form(&action), &fields, Client::of(req)).await {
        Ok(_) => see_other(&return_to),
        Err(page) => page,
    }
}

fn form(action: &str) -> LoginForm<'_> {
    LoginForm {
        client_name: None,
        client_id: None,
        action,
        redirect_to: None,
    }
}

/// The form posts back to itself, carrying `return_to` along.
fn action(return_to: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("return_to", return_to)
        .finish();
    format!("{LOGIN_PATH}?{query}")
}

/// The request's `return_to` if it is safe, else the account page.
fn return_to(req: &Request) -> String {
    let params = Params::parse(req.uri().query().unwrap_or("").as_bytes());
    match params.get("return_to") {
        Some(path) if !params.is_duplicated("return_to") && is_local_path(path) => path.to_owned(),
        _ => ACCOUNT_PATH.to_owned(),
    }
}

/// A path on this server: it starts with one `/`. `//host` and `/\host`
/// are taken by browsers as another host; a backslash or a control
/// character anywhere may be read as one.
fn is_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && path.chars().count() <= MAX_RETURN_TO_CHARS
        && !path
            .chars()
            .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::is_local_path;

    #[test]
    fn our_own_paths_are_followed() {
        assert!(is_local_path("/account"));
        assert!(is_local_path("/account?done=profile"));
    }

    #[test]
    fn anything_that_could_leave_the_server_is_not() {
        for path in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example/",
            "\\\\evil.example",
            "/%0a/x\n",
            "account",
            "",
            "javascript:alert(1)",
            "/ /evil",
        ] {
            assert!(!is_local_path(path), "{path:?} must be refused");
        }
        assert!(!is_local_path(&format!("/{}", "a".repeat(600))));
    }
}
