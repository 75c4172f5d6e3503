//! The redirect channel of the authorization endpoint: answers that go back
//! to the client, which only a validated redirect URI may carry.

use std::borrow::Cow;

use poem::Response;
use poem::http::StatusCode;
use poem::http::header::{CACHE_CONTROL, LOCATION};
use tracing::info;

use crate::oauth::error::AuthorizeErrorCode;
use crate::web::pages::internal_page;

/// A redirect URI that matched a registration exactly, with the `state` to
/// echo. Only `request::validate_client_and_redirect` makes one, so no
/// answer can redirect anywhere unvalidated.
#[derive(Clone)]
pub struct ValidatedRedirect {
    redirect_uri: String,
    state: Option<String>,
}

impl ValidatedRedirect {
    pub(super) fn new(redirect_uri: String, state: Option<String>) -> Self {
        Self {
            redirect_uri,
            state,
        }
    }

    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// A redirect to the client's URI with `params`, `state` and `iss`
    /// (RFC 9207). `status` is that of the request's answer: 302 to a GET,
    /// 303 to a POST.
    pub fn answer(&self, issuer: &str, params: &[(&str, &str)], status: StatusCode) -> Response {
        let mut url = match url::Url::parse(&self.redirect_uri) {
            Ok(url) => url,
            Err(e) => return internal_page("a registered redirect URI does not parse", e),
        };
        {
            let mut query = url.query_pairs_mut();
            for (k, v) in params {
                query.append_pair(k, v);
            }
            if let Some(state) = &self.state {
                query.append_pair("state", state);
            }
            query.append_pair("iss", issuer);
        }
        redirect(url.as_str(), status)
    }
}

/// An error sent back to the client (RFC 6749 §4.1.2.1).
pub struct AuthorizeRedirectError {
    pub code: AuthorizeErrorCode,
    pub description: Cow<'static, str>,
    pub target: ValidatedRedirect,
}

impl AuthorizeRedirectError {
    pub fn into_response(self, issuer: &str, status: StatusCode) -> Response {
        info!(
            error = self.code.as_str(),
            description = %self.description,
            "authorization request refused"
        );
        self.target.answer(
            issuer,
            &[
                ("error", self.code.as_str()),
                ("error_description", &self.description),
            ],
            status,
        )
    }
}

/// A 302, or a 303 when `status` says so. Never poem's
/// `Redirect::temporary`, a 307: RFC 9700 §4.12 says an AS "MUST NOT use
/// the HTTP 307 status code", which would re-POST the login form, password
/// and all, to the client.
fn redirect(url: &str, status: StatusCode) -> Response {
    let status = if status == StatusCode::SEE_OTHER {
        StatusCode::SEE_OTHER
    } else {
        StatusCode::FOUND
    };
    Response::builder()
        .status(status)
        .header(LOCATION, url)
        .header(CACHE_CONTROL, "no-store")
        .finish()
}
