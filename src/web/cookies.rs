//! The one place cookies are built and read.

use chrono::TimeDelta;
use poem::web::cookie::{Cookie, CookieJar, SameSite};

use crate::config::Settings;

/// The cookies we set. With an https issuer their names carry the
/// `__Host-` prefix, which browsers accept only with Secure, Path=/ and no
/// Domain, so that no sibling subdomain can plant or overwrite them.
#[derive(Clone, Copy, Debug)]
pub enum CookieName {
    /// The browser session id.
    Session,
    /// The login form's double-submit CSRF token (there is no session yet).
    LoginCsrf,
    /// A browser the user signed in from before (see `web::throttle`).
    Device,
}

impl CookieName {
    pub fn as_str(self, settings: &Settings) -> &'static str {
        match (self, is_https(settings)) {
            (Self::Session, false) => "tollgate_session",
            (Self::Session, true) => "__Host-tollgate_session",
            (Self::LoginCsrf, false) => "tollgate_login_csrf",
            (Self::LoginCsrf, true) => "__Host-tollgate_login_csrf",
            (Self::Device, false) => "tollgate_device",
            (Self::Device, true) => "__Host-tollgate_device",
        }
    }
}

fn is_https(settings: &Settings) -> bool {
    settings.issuer.scheme() == "https"
}

/// HttpOnly, SameSite=Lax, Path=/, and Secure when the issuer is https.
pub fn new_cookie(
    settings: &Settings,
    name: CookieName,
    value: &str,
    max_age: TimeDelta,
) -> Cookie {
    let mut cookie = Cookie::new_with_str(name.as_str(settings), value);
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_path("/");
    cookie.set_secure(is_https(settings));
    // Lifetimes are positive by construction (config); zero removes.
    cookie.set_max_age(max_age.to_std().unwrap_or_default());
    cookie
}

/// The request's cookie of that name, if it sent one.
pub fn get(settings: &Settings, jar: &CookieJar, name: CookieName) -> Option<Cookie> {
    jar.get(name.as_str(settings))
}

/// Tells the browser to drop a cookie.
pub fn remove(settings: &Settings, jar: &CookieJar, name: CookieName) {
    jar.add(new_cookie(settings, name, "", TimeDelta::zero()));
}
