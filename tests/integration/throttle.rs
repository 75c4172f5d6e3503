//! Login throttling: repeated failures lock an account (and a client
//! address) for a while that doubles, the lock expires, unknown and known
//! usernames are answered alike, and the form and the password grant
//! share the counts.

use std::time::Duration;

use poem::http::StatusCode;

use crate::helpers::browser::{Browser, Page};
use crate::helpers::oauth::{ClientSpec, TestClientApp};
use crate::helpers::{TestApp, TestUser};

const FAILED: &str = "Invalid username or password.";
const LOCKED: &str = "Too many failed sign-ins.";

struct LoginForm {
    browser: Browser,
    page: Page,
}

impl LoginForm {
    async fn open(app: &TestApp, client: &TestClientApp) -> Self {
        let mut browser = Browser::new();
        let page = browser
            .get(app, &app.authorize_path(client, "blog:read"))
            .await;
        assert!(page.is_login_form(), "{}", page.body);
        Self { browser, page }
    }

    /// A fresh login page in this same browser (its session is dropped, so
    /// the page asks for a password again).
    async fn browser_login_page(&mut self, app: &TestApp, client: &TestClientApp) -> Page {
        self.browser.forget("tollgate_session");
        let page = self
            .browser
            .get(app, &app.authorize_path(client, "blog:read"))
            .await;
        assert!(page.is_login_form(), "{}", page.body);
        page
    }

    async fn sign_in(&mut self, app: &TestApp, username: &str, password: &str) -> Page {
        let user = TestUser {
            username: username.to_owned(),
            password: password.to_owned(),
        };
        self.browser.log_in(app, &self.page, &user).await
    }
}

fn retry_after(page: &Page) -> Option<u64> {
    page.headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// The message in the page's error box.
fn alert(page: &Page) -> String {
    let start = page.body.find("role=\"alert\">").expect("an alert") + "role=\"alert\">".len();
    let end = start + page.body[start..].find("</p>").expect("its end");
    page.body[start..end].trim().to_owned()
}

async fn setup() -> (TestApp, TestUser, TestClientApp) {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default().first_party()).await;
    (app, alice, client)
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_until_the_lock_expires() {
    // Arrange
    let (app, alice, client) = setup().await;
    let mut form = LoginForm::open(&app, &client).await;
    for _ in 0..5 {
        let page = form.sign_in(&app, "alice", "wrong-password").await;
        assert!(page.body.contains(FAILED), "{}", page.body);
    }

    // Act: the right password, while locked, then after the lock.
    let locked = form.sign_in(&app, "alice", &alice.password).await;
    app.clock().advance(Duration::from_secs(31));
    let after = form.sign_in(&app, "alice", &alice.password).await;

    // Assert
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        locked.body
    );
    assert!(
        locked.is_login_form() && locked.body.contains(LOCKED),
        "{}",
        locked.body
    );
    assert_eq!(retry_after(&locked), Some(30));
    assert!(
        after.redirect_params().contains_key("code"),
        "{}",
        after.body
    );
    let metrics = app.client.get("/metrics").send().await;
    let text = metrics.0.into_body().into_string().await.unwrap();
    assert!(
        text.contains(r#"tollgate_security_events_total{event="login_lockout"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn each_failure_past_the_threshold_doubles_the_lock() {
    let (app, _alice, client) = setup().await;
    let mut form = LoginForm::open(&app, &client).await;
    for _ in 0..5 {
        form.sign_in(&app, "alice", "wrong-password").await;
    }
    app.clock().advance(Duration::from_secs(31));

    // One more failure after the first lock: locked for 60 s.
    let sixth = form.sign_in(&app, "alice", "wrong-password").await;
    let next = form.sign_in(&app, "alice", "wrong-password").await;

    assert!(sixth.body.contains(FAILED), "{}", sixth.body);
    assert_eq!(next.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after(&next), Some(60));
}

#[tokio::test]
async fn an_unknown_username_is_locked_exactly_like_a_known_one() {
    let (app, _alice, client) = setup().await;
    let mut answers = Vec::new();
    for name in ["alice", "mallory"] {
        let mut form = LoginForm::open(&app, &client).await;
        for _ in 0..5 {
            let page = form.sign_in(&app, name, "wrong-password").await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.body.contains(FAILED), "{}", page.body);
        }
        let page = form.sign_in(&app, name, "wrong-password").await;
        answers.push((page.status, retry_after(&page), alert(&page)));
    }
    assert_eq!(answers[0].0, StatusCode::TOO_MANY_REQUESTS);
    assert!(answers[0].2.starts_with(LOCKED), "{answers:?}");
    assert_eq!(answers[0], answers[1]);
}

#[tokio::test]
async fn the_password_grant_counts_and_obeys_the_same_lock() {
    // Arrange
    let (app, alice, _) = setup().await;
    let client = app
        .oauth_client(ClientSpec::public().first_party().grants(&["password"]))
        .await;
    let grant = |password: String| {
        let client_id = client.client_id.clone();
        let app = &app;
        async move {
            app.token(&[
                ("grant_type", "password"),
                ("client_id", &client_id),
                ("username", "alice"),
                ("password", &password),
            ])
            .await
        }
    };
    for _ in 0..5 {
        let (status, body) = grant("wrong-password".into()).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant"))
        );
    }

    // Act
    let (locked_status, locked) = grant(alice.password.clone()).await;
    app.clock().advance(Duration::from_secs(31));
    let (status, body) = grant(alice.password.clone()).await;

    // Assert
    assert_eq!(locked_status, 400);
    assert_eq!(locked["error"], "invalid_grant");
    assert!(
        locked["error_description"]
            .as_str()
            .unwrap()
            .contains("too many failed attempts"),
        "{locked}"
    );
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn one_address_failing_on_many_accounts_is_locked_too() {
    // Arrange: two failures lock an account, eight an address.
    let app = TestApp::spawn_with(|s| s.login_max_failures = 2).await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default().first_party()).await;
    let mut form = LoginForm::open(&app, &client).await;
    for i in 0..8 {
        let page = form
            .sign_in(&app, &format!("user{i}"), "wrong-password")
            .await;
        assert!(page.body.contains(FAILED), "attempt {i}: {}", page.body);
    }

    // Act: a new account, the right password, from the same address.
    let page = form.sign_in(&app, "alice", &alice.password).await;

    // Assert
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{}", page.body);
}

#[tokio::test]
async fn a_correct_password_forgets_the_accounts_failures() {
    let (app, alice, client) = setup().await;
    let mut form = LoginForm::open(&app, &client).await;
    for _ in 0..4 {
        form.sign_in(&app, "alice", "wrong-password").await;
    }
    let ok = form.sign_in(&app, "alice", &alice.password).await;
    assert!(ok.redirect_params().contains_key("code"), "{}", ok.body);

    // Four more failures do not lock: the count started again.
    let mut form = LoginForm::open(&app, &client).await;
    for _ in 0..4 {
        let page = form.sign_in(&app, "alice", "wrong-password").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    }
}

#[tokio::test]
async fn a_browser_alice_signed_in_from_before_is_not_kept_out_by_a_lock() {
    // Arrange: alice signs in once from her own browser.
    let (app, alice, client) = setup().await;
    let mut hers = LoginForm::open(&app, &client).await;
    let first = hers.sign_in(&app, "alice", &alice.password).await;
    assert!(
        first.redirect_params().contains_key("code"),
        "{}",
        first.body
    );
    // Someone else locks her account from another browser (same address:
    // the address limit is four times higher and not reached).
    let mut theirs = LoginForm::open(&app, &client).await;
    for _ in 0..5 {
        theirs.sign_in(&app, "alice", "guess-password").await;
    }

    // Act
    let attacker = theirs.sign_in(&app, "alice", &alice.password).await;
    hers.page = hers.browser_login_page(&app, &client).await;
    let person = hers.sign_in(&app, "alice", &alice.password).await;

    // Assert
    assert_eq!(attacker.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        person.redirect_params().contains_key("code"),
        "{}",
        person.body
    );
}

#[tokio::test]
async fn another_users_device_cookie_does_not_lift_the_lock() {
    // Arrange: bob's browser, recognised for bob.
    let (app, alice, client) = setup().await;
    let bob = app.user("bob").await;
    let mut bobs = LoginForm::open(&app, &client).await;
    bobs.sign_in(&app, "bob", &bob.password).await;
    let mut theirs = LoginForm::open(&app, &client).await;
    for _ in 0..5 {
        theirs.sign_in(&app, "alice", "guess-password").await;
    }

    // Act: alice's password from bob's browser.
    bobs.page = bobs.browser_login_page(&app, &client).await;
    let page = bobs.sign_in(&app, "alice", &alice.password).await;

    // Assert
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{}", page.body);
}

#[tokio::test]
async fn a_user_keeps_at_most_twenty_recognised_browsers() {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

    let app = TestApp::spawn().await;
    app.user("alice").await;
    let alice = tollgate::store::users::find_by_username(&app.state.db, "alice")
        .await
        .unwrap()
        .unwrap();
    for i in 0..25 {
        app.clock().advance(Duration::from_secs(1));
        tollgate::store::known_devices::insert(
            &app.state.db,
            format!("hash-{i}"),
            alice.id,
            app.clock().now(),
        )
        .await
        .unwrap();
    }
    let kept = entity::known_device::Entity::find()
        .filter(entity::known_device::Column::UserId.eq(alice.id))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(kept, 20);
    let newest = tollgate::store::known_devices::find(&app.state.db, "hash-24").await;
    let oldest = tollgate::store::known_devices::find(&app.state.db, "hash-0").await;
    assert!(newest.unwrap().is_some() && oldest.unwrap().is_none());
}
