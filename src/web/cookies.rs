//! The one place cookies are built.

use chrono::TimeDelta;

use poem::web::cookie::{Cookie, CookieJar, SameSite};

use crate::config::Settings;

/// The browser session id.
pub const SESSION: &str = "tollgate_session";
/// The login form's double-submit CSRF token (there is no session yet).
pub const LOGIN_CSRF: &str = "tollgate_login_csrf";

/// HttpOnly, SameSite=Lax, Path=/, and Secure when the issuer is https.
pub fn new_cookie(settings: &Settings, name: &str, value: &str, max_age: TimeDelta) -> Cookie {
    let mut cookie = Cookie::new_with_str(name, value);
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_path("/");
    cookie.set_secure(settings.issuer.scheme() == "https");
    // Lifetimes are positive by construction (config); zero removes.
    cookie.set_max_age(max_age.to_std().unwrap_or_default());
    cookie
}

/// Tells the browser to drop a cookie.
pub fn remove(settings: &Settings, jar: &CookieJar, name: &str) {
    jar.add(new_cookie(settings, name, "", TimeDelta::zero()));
}
