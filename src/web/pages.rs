//! One askama struct per page, holding exactly what it shows. askama
//! escapes every value for HTML.

use std::sync::LazyLock;

use askama::Template;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use poem::http::StatusCode;
use poem::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, X_FRAME_OPTIONS};
use poem::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tracing::error;

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    /// The app being signed in to; `None` on the standalone login page.
    pub client_name: Option<&'a str>,
    pub action: &'a str,
    pub csrf_token: &'a str,
    pub username: &'a str,
    pub error: Option<&'a str>,
    /// Why someone already signed in sees the form again (`prompt=login`
    /// or `max_age`).
    pub reauthenticate: bool,
}

pub struct ScopeLine {
    pub name: &'static str,
    pub sentence: &'static str,
}

#[derive(Template)]
#[template(path = "consent.html")]
pub struct ConsentPage<'a> {
    pub client_name: &'a str,
    pub username: &'a str,
    pub action: &'a str,
    pub csrf_token: &'a str,
    pub scopes: Vec<ScopeLine>,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub title: &'a str,
    pub message: &'a str,
    pub request_id: &'a str,
}

/// Asks the signed-in person to confirm signing out (RP-Initiated Logout
/// 1.0 §2: without a valid hint, the OP asks).
#[derive(Template)]
#[template(path = "logout.html")]
pub struct LogoutPage<'a> {
    pub username: &'a str,
    pub action: &'a str,
    pub csrf_token: &'a str,
    /// Where the form's answer sends the person afterwards, carried as
    /// hidden fields (and validated again when they come back).
    pub return_to: Option<ReturnTo<'a>>,
}

/// A validated post-logout redirect, as the logout form carries it.
pub struct ReturnTo<'a> {
    pub client_id: &'a str,
    pub client_name: &'a str,
    pub post_logout_redirect_uri: &'a str,
    pub state: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "signed_out.html")]
pub struct SignedOutPage;

/// `/`: where to go from here.
#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage;

#[poem::handler]
pub fn home() -> Response {
    render(&HomePage, StatusCode::OK)
}

/// The response of Form Post Response Mode: hidden fields posted to the
/// client's redirect URI by [`FORM_POST_SCRIPT`], or by the person
/// pressing Continue when scripts are off.
#[derive(Template)]
#[template(path = "form_post.html")]
pub struct FormPostPage<'a> {
    pub action: &'a str,
    pub fields: Vec<(&'a str, &'a str)>,
}

impl FormPostPage<'_> {
    /// For the template, which marks it safe: it is our constant, and its
    /// hash in the CSP must match it byte for byte.
    pub fn script(&self) -> &'static str {
        FORM_POST_SCRIPT
    }
}

/// The one script any page of ours runs: the form_post page submitting
/// its form.
pub const FORM_POST_SCRIPT: &str = "document.forms[0].submit();";

/// [`FORM_POST_SCRIPT`]'s CSP source (CSP Level 3 §8.4, hash-source), so
/// that this one inline script runs and no other would.
static FORM_POST_SCRIPT_SOURCE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "'sha256-{}'",
        STANDARD.encode(Sha256::digest(FORM_POST_SCRIPT.as_bytes()))
    )
});

/// Renders a page with the headers every page of ours carries: never
/// cached, never framed (the consent button must not be clickjacked), and
/// forms that post only back to us.
pub fn render(page: &impl Template, status: StatusCode) -> Response {
    render_form(page, status, None)
}

/// As [`render`], for a page whose form's answer redirects to the client:
/// `redirect_to` (the client's redirect URI) joins the CSP's `form-action`,
/// which browsers also apply to the redirect after a form is sent.
pub fn render_form(
    page: &impl Template,
    status: StatusCode,
    redirect_to: Option<&str>,
) -> Response {
    let mut form_action = "'self'".to_owned();
    if let Some(source) = redirect_to.and_then(csp_source) {
        form_action.push(' ');
        form_action.push_str(&source);
    }
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; \
         base-uri 'none'; form-action {form_action}"
    );
    respond(page, status, csp)
}

/// Renders the form_post page: its form may post only to the client's
/// redirect URI, and its only script is [`FORM_POST_SCRIPT`].
pub fn render_form_post(page: &FormPostPage<'_>, redirect_uri: &str) -> Response {
    let form_action = csp_source(redirect_uri).unwrap_or_else(|| "'none'".to_owned());
    let csp = format!(
        "default-src 'none'; script-src {script}; style-src 'unsafe-inline'; \
         frame-ancestors 'none'; base-uri 'none'; form-action {form_action}",
        script = *FORM_POST_SCRIPT_SOURCE
    );
    respond(page, StatusCode::OK, csp)
}

/// A rendered page, never cached nor framed, under `csp`.
fn respond(page: &impl Template, status: StatusCode, csp: String) -> Response {
    match page.render() {
        Ok(html) => html
            .with_status(status)
            .with_content_type("text/html; charset=utf-8")
            .with_header(CACHE_CONTROL, "no-store")
            .with_header(X_FRAME_OPTIONS, "DENY")
            .with_header(CONTENT_SECURITY_POLICY, csp)
            .into_response(),
        Err(e) => {
            error!(error = %e, "template failed to render");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The CSP source that allows a redirect to `uri`: its origin, or its
/// scheme for a native app's private-use scheme (RFC 8252 §7.1).
fn csp_source(uri: &str) -> Option<String> {
    let url = url::Url::parse(uri).ok()?;
    match url.scheme() {
        "http" | "https" => Some(url.origin().ascii_serialization()),
        scheme => Some(format!("{scheme}:")),
    }
}

/// 303 to a page of ours, after a form (Post/Redirect/Get) or to sign in.
pub fn see_other(location: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(poem::http::header::LOCATION, location)
        .header(CACHE_CONTROL, "no-store")
        .finish()
}

/// An error page: the status, a title and what the person can do about it.
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let request_id = request_id();
    tracing::info!(request_id, title, message, "error page");
    render(
        &ErrorPage {
            title,
            message,
            request_id: &request_id,
        },
        status,
    )
}

/// The page for a failure on our side. The whole cause chain goes to the
/// log under the page's request id; the person sees only that id.
pub fn internal_page(what: &'static str, e: impl Into<anyhow::Error>) -> Response {
    let e = e.into();
    let request_id = request_id();
    error!(request_id, error.cause_chain = ?e, error.message = %e, "{what}");
    render(
        &ErrorPage {
            title: "Something went wrong",
            message: "Something went wrong on our side. Please try again.",
            request_id: &request_id,
        },
        StatusCode::INTERNAL_SERVER_ERROR,
    )
}

/// The request's own id (`X-Request-Id`), so that the page and the log
/// name the same one; a fresh one outside a request.
fn request_id() -> String {
    crate::auth::current_request_id().unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}
