//! The redirect channel of the authorization endpoint: answers that go back
//! to the client, which only a validated redirect URI may carry.

use std::borrow::Cow;

use poem::Response;
use poem::http::StatusCode;
use poem::http::header::{CACHE_CONTROL, LOCATION};
use tracing::info;

use crate::oauth::error::AuthorizeErrorCode;
use crate::oauth::params::Params;
use crate::web::pages::{FormPostPage, internal_page, render_form_post};

/// A refusal to send back: the error code and its description.
pub(super) type Refusal = (AuthorizeErrorCode, &'static str);

/// How the answer reaches the client: the redirect's query (RFC 6749
/// §4.1.2), or a form the browser posts (OAuth 2.0 Form Post Response
/// Mode), which keeps the code out of URLs and logs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResponseMode {
    #[default]
    Query,
    FormPost,
}

impl ResponseMode {
    /// The `response_mode` asked for. A duplicated one counts as absent
    /// here: the duplicate itself is refused, in the default mode.
    pub fn requested(params: &Params) -> Result<Self, Refusal> {
        if params.is_duplicated("response_mode") {
            return Ok(Self::Query);
        }
        match params.get("response_mode") {
            None | Some("query") => Ok(Self::Query),
            Some("form_post") => Ok(Self::FormPost),
            Some(_) => Err((
                AuthorizeErrorCode::InvalidRequest,
                "response_mode must be query or form_post",
            )),
        }
    }
}

/// A redirect URI that matched a registration exactly, with the `state` to
/// echo and the response mode. Only
/// `request::validate_client_and_redirect` makes one, so no answer can
/// go anywhere unvalidated.
#[derive(Clone)]
pub struct ValidatedRedirect {
    redirect_uri: String,
    state: Option<String>,
    mode: ResponseMode,
}

impl ValidatedRedirect {
    pub(super) fn new(redirect_uri: String, state: Option<String>) -> Self {
        Self {
            redirect_uri,
            state,
            mode: ResponseMode::Query,
        }
    }

    pub(super) fn with_mode(self, mode: ResponseMode) -> Self {
        Self { mode, ..self }
    }

    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The answer to the client: `params`, `state` and `iss` (RFC 9207),
    /// in the request's response mode. `status` is that of a redirect:
    /// 302 to a GET, 303 to a POST.
    pub fn answer(&self, issuer: &str, params: &[(&str, &str)], status: StatusCode) -> Response {
        match self.mode {
            ResponseMode::Query => self.redirect(issuer, params, status),
            ResponseMode::FormPost => self.form_post(issuer, params),
        }
    }

    fn redirect(&self, issuer: &str, params: &[(&str, &str)], status: StatusCode) -> Response {
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

    /// Form Post Response Mode §2: "Authorization Response parameters are
    /// encoded as HTML form values that are auto-submitted in the User
    /// Agent ... The action attribute of the form MUST be the Client's
    /// Redirection URI. The method of the form attribute MUST be POST."
    /// Always a 200 page, never a redirect.
    fn form_post(&self, issuer: &str, params: &[(&str, &str)]) -> Response {
        let mut fields: Vec<(&str, &str)> = params.to_vec();
        if let Some(state) = &self.state {
            fields.push(("state", state));
        }
        fields.push(("iss", issuer));
        render_form_post(
            &FormPostPage {
                action: &self.redirect_uri,
                fields,
            },
            &self.redirect_uri,
        )
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
