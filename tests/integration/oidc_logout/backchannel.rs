//! Back-Channel Logout 1.0: ending a session POSTs a Logout Token to each
//! of its clients that registered a back-channel URI, from the background.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};
use serde_json::Value;
use tollgate::backchannel::{Backchannel, Policy};
use tollgate::metrics::Metrics;

use super::support::*;
use crate::helpers::browser::Browser;
use crate::helpers::oauth::{ClientSpec, TestClientApp};
use crate::helpers::{TestApp, json};

const SCOPE: &str = "blog:read";
const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

async fn client_notified_at(app: &TestApp, uri: &str, alg: &str) -> TestClientApp {
    app.oauth_client(
        ClientSpec::default()
            .id_token_alg(alg)
            .backchannel_logout_uri(uri)
            .post_logout_redirect_uris(&[SIGNED_OUT_URI]),
    )
    .await
}

/// Logs out through the confirmation form; returns how long the answer
/// took.
async fn log_out(app: &TestApp, browser: &mut Browser) -> Duration {
    let page = browser.get(app, "/oauth/logout").await;
    assert_confirmation_page(&page);
    let csrf = page.field("csrf_token").unwrap();
    let start = Instant::now();
    let done = browser
        .post_form(app, "/oauth/logout", &[("csrf_token", &csrf)])
        .await;
    let took = start.elapsed();
    assert_signed_out_page(&done);
    took
}

/// Verifies a logout token against the keys /oauth/jwks publishes, as a
/// client would; returns its header and claims.
async fn verify_with_jwks(app: &TestApp, token: &str, client_id: &str) -> (Value, Value) {
    let header = decode_header(token).unwrap();
    let kid = header.kid.clone().expect("a kid");
    let jwks = json(app.client.get("/oauth/jwks").send().await).await;
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap_or_else(|| panic!("{kid} published in {jwks}"));
    let jwk: Jwk = serde_json::from_value(jwk.clone()).unwrap();
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[app.state.settings.issuer_str()]);
    validation.set_audience(&[client_id]);
    validation.set_required_spec_claims(&["iss", "aud", "iat", "exp", "sub"]);
    let data = decode::<Value>(token, &DecodingKey::from_jwk(&jwk).unwrap(), &validation)
        .expect("the logout token verifies against the JWKS");
    (serde_json::to_value(&data.header).unwrap(), data.claims)
}

async fn wait_for_metric(metrics: &Metrics, outcome: &str, n: u64, within: Duration) {
    let start = Instant::now();
    while backchannel_count(metrics, outcome) < n && start.elapsed() < within {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_receiver_gets_a_logout_token_that_verifies_against_the_jwks() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let receiver = Receiver::start(Behaviour::Ok).await;
    let client = client_notified_at(&app, &receiver.uri, "ES256").await;
    let mut browser = signed_in(&app, &alice, &client, SCOPE).await;
    let sid = session_of(&app, &browser).await.unwrap().sid;

    // Act
    log_out(&app, &mut browser).await;
    let seen = receiver.wait_for(1, Duration::from_secs(10)).await;

    // Assert
    assert_eq!(seen.len(), 1, "{seen:?}");
    let received = &seen[0];
    assert_eq!(received.content_type, "application/x-www-form-urlencoded");
    let (header, claims) = verify_with_jwks(&app, &received.logout_token, &client.client_id).await;
    assert_eq!(header["typ"], "logout+jwt", "{header}");
    assert_eq!(header["alg"], "ES256", "{header}");
    assert_eq!(claims["sid"], sid.as_str(), "{claims}");
    assert_eq!(
        claims["sub"],
        user_id(&app, &alice).await.to_string(),
        "{claims}"
    );
    assert_eq!(claims["aud"], client.client_id.as_str());
    assert_eq!(claims["events"], serde_json::json!({ EVENT: {} }));
    assert!(claims.get("nonce").is_none(), "no nonce: {claims}");
    assert!(!claims["jti"].as_str().unwrap_or_default().is_empty());
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert!((1..=120).contains(&lifetime), "short-lived: {claims}");
    assert_eq!(backchannel_count(&app.state.metrics, "delivered"), 1);
}

#[tokio::test]
async fn only_the_sessions_clients_with_a_back_channel_uri_are_told() {
    // Arrange: alice's session signed in to two clients, one without a
    // back-channel URI; bob's session to a third, which must hear nothing.
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let hers = Receiver::start(Behaviour::Ok).await;
    let his = Receiver::start(Behaviour::Ok).await;
    let notified = client_notified_at(&app, &hers.uri, "ES256").await;
    let silent = app.oauth_client(ClientSpec::default()).await;
    let bobs_client = client_notified_at(&app, &his.uri, "ES256").await;
    let mut browser = signed_in(&app, &alice, &notified, SCOPE).await;
    app.authorize_code(&mut browser, &alice, &silent, SCOPE)
        .await;
    let _bobs_browser = signed_in(&app, &bob, &bobs_client, SCOPE).await;

    // Act
    log_out(&app, &mut browser).await;
    let seen = hers.wait_for(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Assert
    assert_eq!(seen.len(), 1);
    assert!(his.seen().is_empty(), "bob's session did not end");
    assert_eq!(backchannel_count(&app.state.metrics, "delivered"), 1);
    assert_eq!(backchannel_count(&app.state.metrics, "failed"), 0);
}

#[tokio::test]
async fn a_valid_hint_logout_tells_the_client_too() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let receiver = Receiver::start(Behaviour::Ok).await;
    let client = client_notified_at(&app, &receiver.uri, "ES256").await;
    let mut browser = signed_in(&app, &alice, &client, SCOPE).await;
    let claims = id_token_claims(&app, &alice, &client, &browser).await;
    let hint = sign_hint(&app, &claims);

    // Act
    let page = browser
        .get(
            &app,
            &logout_path(&[
                ("id_token_hint", &hint),
                ("post_logout_redirect_uri", SIGNED_OUT_URI),
            ]),
        )
        .await;
    let seen = receiver.wait_for(1, Duration::from_secs(10)).await;

    // Assert: the sid the client's ID token carried.
    assert_eq!(page.status, 303);
    assert_eq!(seen.len(), 1);
    let (_, logout) = verify_with_jwks(&app, &seen[0].logout_token, &client.client_id).await;
    assert_eq!(logout["sid"], claims["sid"]);
    assert_eq!(logout["sub"], claims["sub"]);
}

#[tokio::test]
async fn a_receiver_that_is_down_delays_nothing_and_is_tried_a_bounded_number_of_times() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let failing = Receiver::start(Behaviour::Status(503)).await;
    let down = Receiver::down_uri().await;
    let flaky = client_notified_at(&app, &failing.uri, "ES256").await;
    let gone = client_notified_at(&app, &down, "ES256").await;
    let mut browser = signed_in(&app, &alice, &flaky, SCOPE).await;
    app.authorize_code(&mut browser, &alice, &gone, SCOPE).await;

    // Act
    let took = log_out(&app, &mut browser).await;
    wait_for_metric(&app.state.metrics, "failed", 2, Duration::from_secs(15)).await;

    // Assert: each token was tried three times, then given up on.
    assert!(took < Duration::from_secs(1), "the answer waited {took:?}");
    assert_eq!(backchannel_count(&app.state.metrics, "failed"), 2);
    assert_eq!(failing.seen().len(), Policy::default().attempts as usize);
    assert_eq!(backchannel_count(&app.state.metrics, "delivered"), 0);
}

#[tokio::test]
async fn a_slow_receiver_does_not_hold_up_the_redirect() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let slow = Receiver::start(Behaviour::Slow(Duration::from_secs(30))).await;
    let client = client_notified_at(&app, &slow.uri, "ES256").await;
    let mut browser = signed_in(&app, &alice, &client, SCOPE).await;
    let hint = sign_hint(
        &app,
        &id_token_claims(&app, &alice, &client, &browser).await,
    );

    // Act
    let start = Instant::now();
    let page = browser
        .get(
            &app,
            &logout_path(&[
                ("id_token_hint", &hint),
                ("post_logout_redirect_uri", SIGNED_OUT_URI),
            ]),
        )
        .await;
    let took = start.elapsed();
    let seen = slow.wait_for(1, Duration::from_secs(10)).await;

    // Assert: the redirect came at once; the token went out meanwhile.
    assert_eq!(page.status, 303);
    assert!(
        took < Duration::from_secs(1),
        "the redirect waited {took:?}"
    );
    assert_eq!(seen.len(), 1, "the receiver got the first attempt");
}

#[tokio::test]
async fn a_full_queue_drops_and_counts_notices_instead_of_spawning_more() {
    // Arrange: one send at a time, one notice waiting; the receiver
    // holds the first send.
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let slow = Receiver::start(Behaviour::Slow(Duration::from_secs(30))).await;
    let client = client_notified_at(&app, &slow.uri, "ES256").await;
    let browser = signed_in(&app, &alice, &client, SCOPE).await;
    let session = session_of(&app, &browser).await.unwrap();
    let metrics = Arc::new(Metrics::new());
    let sender = Backchannel::start(
        app.state.db.clone(),
        app.state.settings.clone(),
        app.state.keys.clone(),
        app.clock().clone(),
        metrics.clone(),
        Policy {
            queue: 1,
            concurrency: 1,
            ..Policy::default()
        },
    );
    let ended = sender.session_ending(&session).await.unwrap();
    sender.notify(ended.clone());
    assert_eq!(slow.wait_for(1, Duration::from_secs(10)).await.len(), 1);

    // Act
    for _ in 0..10 {
        sender.notify(ended.clone());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Assert: at most one taken by the worker and one queued.
    let dropped = backchannel_count(&metrics, "dropped");
    assert!((8..=9).contains(&dropped), "dropped {dropped}");
    assert_eq!(slow.seen().len(), 1, "one send at a time");
}

#[tokio::test]
async fn another_person_signing_in_on_the_browser_tells_the_first_ones_clients() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let receiver = Receiver::start(Behaviour::Ok).await;
    let client = client_notified_at(&app, &receiver.uri, "ES256").await;
    let mut browser = signed_in(&app, &alice, &client, SCOPE).await;
    let alices_sid = session_of(&app, &browser).await.unwrap().sid;
    let csrf = browser
        .cookie("tollgate_login_csrf")
        .expect("the login form's cookie")
        .to_owned();

    // Act: bob uses the login form on alice's browser.
    let page = browser
        .post_form(
            &app,
            &app.authorize_path(&client, SCOPE),
            &[
                ("csrf_token", &csrf),
                ("username", &bob.username),
                ("password", &bob.password),
            ],
        )
        .await;
    let seen = receiver.wait_for(1, Duration::from_secs(10)).await;

    // Assert
    assert!(
        matches!(page.status.as_u16(), 200 | 303),
        "{} {}",
        page.status,
        page.body
    );
    assert_eq!(seen.len(), 1);
    let (_, claims) = verify_with_jwks(&app, &seen[0].logout_token, &client.client_id).await;
    assert_eq!(claims["sid"], alices_sid.as_str());
    assert_eq!(claims["sub"], user_id(&app, &alice).await.to_string());
}
