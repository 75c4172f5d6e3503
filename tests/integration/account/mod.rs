//! The account page, `/account`, with `/login` and `/logout`: in-process
//! with the `Browser` helper (`pages`, `actions`), and on a real port with
//! reqwest and the `oauth2` crate (`real_port`).

mod actions;
mod pages;
mod real_port;

use crate::helpers::browser::{Browser, Page};
use crate::helpers::{TestApp, TestUser};
pub(crate) use crate::logout_revokes::tokens_in;

/// Signs `user` in through `/login?return_to=/account`, as a person
/// sent there by the account page does, and returns the account page.
async fn sign_in(app: &TestApp, browser: &mut Browser, user: &TestUser) -> Page {
    let redirect = browser.get(app, "/account").await;
    assert_eq!(redirect.status, 303, "{}", redirect.body);
    let login_path = redirect.location().expect("a redirect to sign in");
    let form = browser.get(app, &login_path).await;
    let landed = browser.log_in(app, &form, user).await;
    assert_eq!(landed.status, 303, "{}", landed.body);
    assert_eq!(landed.location().as_deref(), Some("/account"));
    let page = browser.get(app, "/account").await;
    assert_eq!(page.status, 200, "{}", page.body);
    page
}

/// The account page's CSRF token.
fn csrf(page: &Page) -> String {
    page.field("csrf_token").expect("a CSRF field")
}
