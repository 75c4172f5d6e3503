//! Browser plumbing shared by the login and consent pages, and the pages
//! of our own: home, account and sign-out.

pub mod account;
pub mod cookies;
mod form;
pub mod pages;
pub mod session;
pub mod throttle;

use poem::http::HeaderValue;
use poem::http::header::{REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS};
use poem::middleware::CookieJarManager;
use poem::{Endpoint, EndpointExt, IntoResponse, Middleware, Request, Response, Route, get, post};

use crate::config::Settings;

/// The standalone login page (served by `oauth::login::page`, which
/// shares the authorize flow's form).
pub const LOGIN_PATH: &str = "/login";
pub const ACCOUNT_PATH: &str = "/account";
pub const LOGOUT_PATH: &str = "/logout";

/// Adds the home, account and sign-out pages.
pub fn routes(route: Route) -> Route {
    let jar = CookieJarManager::new;
    route
        .at("/", get(pages::home))
        .at(ACCOUNT_PATH, get(account::show).with(jar()))
        .at("/account/profile", post(account::save_profile).with(jar()))
        .at(
            "/account/password",
            post(account::change_password).with(jar()),
        )
        .at(
            "/account/apps/revoke",
            post(account::revoke_app).with(jar()),
        )
        .at(
            "/account/sessions/end",
            post(account::end_session).with(jar()),
        )
        .at(
            "/account/sessions/end-others",
            post(account::end_other_sessions).with(jar()),
        )
        .at(LOGOUT_PATH, post(account::logout).with(jar()))
}

/// Headers for every answer, errors included: no MIME sniffing; no
/// `Referer` (a page's URL holds the authorization request, a redirect's
/// the code); and, when the issuer is https, HSTS, so that a browser never
/// tries plain http again.
pub struct SecurityHeaders {
    hsts: bool,
}

impl SecurityHeaders {
    pub fn new(settings: &Settings) -> Self {
        Self {
            hsts: settings.issuer.scheme() == "https",
        }
    }
}

impl<E: Endpoint> Middleware<E> for SecurityHeaders {
    type Output = SecurityHeadersEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        SecurityHeadersEndpoint {
            inner,
            hsts: self.hsts,
        }
    }
}

pub struct SecurityHeadersEndpoint<E> {
    inner: E,
    hsts: bool,
}

impl<E: Endpoint> Endpoint for SecurityHeadersEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        // Errors become answers here, so that they get the headers too.
        let mut resp = match self.inner.call(req).await {
            Ok(resp) => resp.into_response(),
            Err(e) => e.into_response(),
        };
        let headers = resp.headers_mut();
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        if self.hsts {
            headers.insert(
                STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000"),
            );
        }
        Ok(resp)
    }
}
