//! Every form of the account page, in-process: what it changes, and that
//! without the session's CSRF token it changes nothing.

use tollgate::store;

use crate::helpers::TestApp;
use crate::helpers::browser::{Browser, Page};
use crate::helpers::oauth::ClientSpec;
use crate::token::support::{assert_oauth_error, field, list_posts, post_as, refresh};

use super::{csrf, sign_in, tokens_in};

/// The user as stored.
async fn stored(app: &TestApp, username: &str) -> entity::user::Model {
    store::users::find_by_username(&app.state.db, username)
        .await
        .expect("user lookup")
        .expect("the user")
}

/// Submits the profile form of the account `page`.
async fn save_profile(
    app: &TestApp,
    browser: &mut Browser,
    page: &Page,
    name: &str,
    email: &str,
) -> Page {
    browser
        .post_form(
            app,
            "/account/profile",
            &[
                ("csrf_token", &csrf(page)),
                ("name", name),
                ("email", email),
            ],
        )
        .await
}

/// Submits the password form of the account `page`.
async fn change_password(
    app: &TestApp,
    browser: &mut Browser,
    page: &Page,
    current: &str,
    new: &str,
    repeat: &str,
) -> Page {
    browser
        .post_form(
            app,
            "/account/password",
            &[
                ("csrf_token", &csrf(page)),
                ("current_password", current),
                ("new_password", new),
                ("repeat_password", repeat),
            ],
        )
        .await
}

#[tokio::test]
async fn the_profile_form_saves_name_and_email_and_says_so() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let mut browser = Browser::new();
    let page = sign_in(&app, &mut browser, &alice).await;

    // Act
    let saved = save_profile(
        &app,
        &mut browser,
        &page,
        "Alice Liddell",
        "alice@example.com",
    )
    .await;
    let page = browser.get(&app, &saved.location().expect("back")).await;

    // Assert
    assert_eq!(saved.status, 303);
    assert!(
        page.body.contains("Your profile was saved."),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("value=\"Alice Liddell\""),
        "{}",
        page.body
    );
    let user = stored(&app, "alice").await;
    assert_eq!(user.name.as_deref(), Some("Alice Liddell"));
    assert_eq!(user.email.as_deref(), Some("alice@example.com"));
}

#[tokio::test]
async fn a_bad_email_is_refused_with_a_reason_and_nothing_saved() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let mut browser = Browser::new();
    let page = sign_in(&app, &mut browser, &alice).await;

    // Act
    let refused = save_profile(&app, &mut browser, &page, "Alice", "not an address").await;

    // Assert
    assert_eq!(refused.status, 400);
    assert!(
        refused.body.contains("Your profile was not saved"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("value=\"not an address\""),
        "shown again to fix"
    );
    let user = stored(&app, "alice").await;
    assert_eq!(user.name, None);
    assert_eq!(user.email, None);
}

#[tokio::test]
async fn a_form_without_the_csrf_token_is_refused_and_changes_nothing() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();
    // Consenting signed this browser in.
    let tokens = tokens_in(&app, &mut browser, &alice, &client).await;

    // Act
    let profile = browser
        .post_form(&app, "/account/profile", &[("name", "Mallory")])
        .await;
    let forged = browser
        .post_form(
            &app,
            "/account/apps/revoke",
            &[("csrf_token", "forged"), ("client_id", &client.client_id)],
        )
        .await;
    let others = browser
        .post_form(&app, "/account/sessions/end-others", &[])
        .await;

    // Assert
    for page in [&profile, &forged, &others] {
        assert_eq!(page.status, 400, "{}", page.body);
        assert!(page.body.contains("Nothing was changed"), "{}", page.body);
    }
    let user = stored(&app, "alice").await;
    assert_eq!(user.name, None);
    let (status, body) = refresh(&app, &client, field(&tokens, "refresh_token"), None).await;
    assert_eq!(status, 200, "the app keeps its access: {body}");
}

#[tokio::test]
async fn a_wrong_current_password_shows_the_form_again_and_changes_nothing() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let mut browser = Browser::new();
    let page = sign_in(&app, &mut browser, &alice).await;

    // Act
    let wrong = change_password(
        &app,
        &mut browser,
        &page,
        "guess-guess",
        "a brand new secret",
        "a brand new secret",
    )
    .await;
    let mismatch = change_password(
        &app,
        &mut browser,
        &page,
        &alice.password,
        "a brand new secret",
        "another new secret",
    )
    .await;

    // Assert
    assert_eq!(wrong.status, 400);
    assert!(
        wrong.body.contains("The current password is wrong"),
        "{}",
        wrong.body
    );
    assert!(
        wrong.body.contains("name=\"current_password\""),
        "the form again"
    );
    assert_eq!(mismatch.status, 400);
    assert!(mismatch.body.contains("differ"), "{}", mismatch.body);
    let mut other = Browser::new();
    sign_in(&app, &mut other, &alice).await;
}

#[tokio::test]
async fn a_password_change_signs_out_the_other_browser_and_revokes_its_tokens() {
    // Arrange
    let app = TestApp::spawn().await;
    let mut alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut laptop = Browser::new();
    let mut phone = Browser::new();
    let phone_tokens = tokens_in(&app, &mut phone, &alice, &client).await;
    let page = sign_in(&app, &mut laptop, &alice).await;

    // Act
    let changed = change_password(
        &app,
        &mut laptop,
        &page,
        &alice.password,
        "a brand new secret",
        "a brand new secret",
    )
    .await;
    let laptop_page = laptop.get(&app, &changed.location().expect("back")).await;
    let phone_page = phone.get(&app, "/account").await;

    // Assert
    assert_eq!(changed.status, 303, "{}", changed.body);
    assert!(laptop_page.body.contains("Your password was changed"));
    assert_eq!(phone_page.status, 303, "the phone is signed out");
    let (status, body) = refresh(&app, &client, field(&phone_tokens, "refresh_token"), None).await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
    alice.password = "a brand new secret".to_owned();
    sign_in(&app, &mut Browser::new(), &alice).await;
}

#[tokio::test]
async fn revoking_an_app_cuts_off_its_refresh_and_access_tokens() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();
    // Consenting signed this browser in.
    let tokens = tokens_in(&app, &mut browser, &alice, &client).await;
    let page = browser.get(&app, "/account").await;
    assert!(page.body.contains("Test App"), "{}", page.body);
    assert!(page.body.contains("Read blog posts, including your drafts"));
    let access = field(&tokens, "access_token");
    assert_eq!(list_posts(&app, access).await.0, 200);

    // Act
    let revoked = browser
        .post_form(
            &app,
            "/account/apps/revoke",
            &[
                ("csrf_token", &csrf(&page)),
                ("client_id", &client.client_id),
            ],
        )
        .await;
    let page = browser.get(&app, &revoked.location().expect("back")).await;
    let again = browser
        .post_form(
            &app,
            "/account/apps/revoke",
            &[
                ("csrf_token", &csrf(&page)),
                ("client_id", &client.client_id),
            ],
        )
        .await;

    // Assert
    assert_eq!(revoked.status, 303, "{}", revoked.body);
    assert!(page.body.contains("access was revoked"), "{}", page.body);
    assert!(page.body.contains("No app has access"), "{}", page.body);
    let (status, body) = refresh(&app, &client, field(&tokens, "refresh_token"), None).await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
    assert_eq!(list_posts(&app, access).await.0, 401);
    let (status, body) = post_as(&app, "/oauth/introspect", &client, &[("token", access)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["active"], false, "{body}");
    assert_eq!(again.status, 404, "nothing left to revoke");
}

#[tokio::test]
async fn ending_one_session_signs_that_browser_out_only() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let (mut laptop, mut phone) = (Browser::new(), Browser::new());
    sign_in(&app, &mut phone, &alice).await;
    let page = sign_in(&app, &mut laptop, &alice).await;
    let phone_sid = page.field("sid").expect("another session to end");

    // Act
    let ended = laptop
        .post_form(
            &app,
            "/account/sessions/end",
            &[("csrf_token", &csrf(&page)), ("sid", &phone_sid)],
        )
        .await;
    let unknown = laptop
        .post_form(
            &app,
            "/account/sessions/end",
            &[("csrf_token", &csrf(&page)), ("sid", &phone_sid)],
        )
        .await;

    // Assert
    assert_eq!(ended.status, 303, "{}", ended.body);
    assert_eq!(phone.get(&app, "/account").await.status, 303);
    assert_eq!(laptop.get(&app, "/account").await.status, 200);
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn ending_all_other_sessions_keeps_this_one() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let (mut laptop, mut phone, mut tablet) = (Browser::new(), Browser::new(), Browser::new());
    sign_in(&app, &mut phone, &alice).await;
    sign_in(&app, &mut tablet, &alice).await;
    let page = sign_in(&app, &mut laptop, &alice).await;
    assert_eq!(page.body.matches("End session").count(), 2, "{}", page.body);

    // Act
    let ended = laptop
        .post_form(
            &app,
            "/account/sessions/end-others",
            &[("csrf_token", &csrf(&page))],
        )
        .await;
    let page = laptop.get(&app, &ended.location().expect("back")).await;

    // Assert
    assert_eq!(ended.status, 303, "{}", ended.body);
    assert!(page.body.contains("All your other sessions were ended"));
    assert!(!page.body.contains("End session"), "{}", page.body);
    assert_eq!(phone.get(&app, "/account").await.status, 303);
    assert_eq!(tablet.get(&app, "/account").await.status, 303);
}

#[tokio::test]
async fn wrong_current_passwords_lock_the_form_like_failed_sign_ins() {
    // Arrange: two failures lock the account.
    let app = TestApp::spawn_with(|s| s.login_max_failures = 2).await;
    let alice = app.user("alice").await;
    let mut browser = Browser::new();
    let page = sign_in(&app, &mut browser, &alice).await;
    let new = "a brand new secret";

    // Act: two wrong guesses, then the right password.
    for _ in 0..2 {
        let wrong = change_password(&app, &mut browser, &page, "guess-guess", new, new).await;
        assert_eq!(wrong.status, 400, "{}", wrong.body);
    }
    let locked = change_password(&app, &mut browser, &page, &alice.password, new, new).await;

    // Assert: refused while locked, and the password is unchanged.
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(
        locked.body.contains("Too many wrong passwords"),
        "{}",
        locked.body
    );
    let stored = stored(&app, "alice").await;
    let old_still_works = app
        .state
        .passwords
        .verify(
            tollgate::secrets::SecretString::new(alice.password.clone()),
            Some(stored.password_hash),
        )
        .await
        .unwrap();
    assert!(old_still_works);
}
