//! Two servers on one database, their background loops running: a
//! revocation at one reaches the other, a key rotated in the database
//! reaches every JWKS, and unknown `kid`s cannot make a server reload its
//! keys more than once per throttle interval.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use tollgate::auth::Subject;
use tollgate::clock::Clock;
use tollgate::domain::ScopeSet;
use tollgate::state::AppState;

use crate::helpers::oauth::{ClientSpec, TestClientApp};
use crate::helpers::{TestApp, json};
use crate::token::support::{assert_revoked, field, list_posts, post_as};

/// What the README promises for revocations on the other instances.
const README_SYNC_DELAY: Duration = Duration::from_secs(1);
/// Room for scheduling on a busy 2-core machine running a debug build.
/// Waits end as soon as the awaited event happens.
const SLACK: Duration = Duration::from_secs(2);

async fn client_credentials_token(app: &TestApp, client: &TestClientApp) -> String {
    let (status, body) = app
        .token_basic(client, &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(status, 200, "{body}");
    field(&body, "access_token").to_owned()
}

async fn cc_client(app: &TestApp) -> TestClientApp {
    app.oauth_client(ClientSpec::default().grants(&["client_credentials"]))
        .await
}

/// The `kid`s of an instance's JWKS.
async fn jwks_kids(app: &TestApp) -> Vec<String> {
    let resp = app.client.get("/oauth/jwks").send().await;
    resp.assert_status_is_ok();
    let body: Value = json(resp).await;
    body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls `check` until it holds; returns how long that took, or fails
/// after `within`.
async fn wait_until<F, Fut>(within: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if check().await {
            return started.elapsed();
        }
        assert!(started.elapsed() < within, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_token_revoked_at_one_instance_is_refused_by_another_within_a_second() {
    // Arrange: B, with the default sync interval, has accepted the token.
    let a = TestApp::serve().await;
    let b = a.another_instance(|_| {}).await;
    let client = cc_client(&a).await;
    let token = client_credentials_token(&a, &client).await;
    assert_eq!(list_posts(&b, &token).await.0, 200);

    // Act
    let (status, body) = post_as(&a, "/oauth/revoke", &client, &[("token", &token)]).await;
    assert_eq!(status, 200, "{body}");

    // Assert: A at once, B once its loop has polled.
    assert_revoked(&a, &token).await;
    wait_until(README_SYNC_DELAY + SLACK, "B refuses the token", || async {
        list_posts(&b, &token).await.0 == 401
    })
    .await;
    assert_revoked(&b, &token).await;
}

/// On SQLite the poll is all there is; on PostgreSQL a notification does
/// not wait for it.
#[tokio::test]
async fn the_peer_sync_interval_setting_spaces_the_polls_and_notifications_do_not_wait_for_them() {
    // Arrange: B polls once an hour.
    let a = TestApp::serve().await;
    let postgres = a.state.db.get_database_backend() == sea_orm::DbBackend::Postgres;
    let b = a
        .another_instance(|s| s.peer_sync_interval = Duration::from_secs(3600))
        .await;
    let client = cc_client(&a).await;
    let token = client_credentials_token(&a, &client).await;
    assert_eq!(list_posts(&b, &token).await.0, 200);

    // Act
    let (status, body) = post_as(&a, "/oauth/revoke", &client, &[("token", &token)]).await;
    assert_eq!(status, 200, "{body}");
    assert_revoked(&a, &token).await;
    if postgres {
        wait_until(SLACK, "the notification reaches B", || async {
            list_posts(&b, &token).await.0 == 401
        })
        .await;
        return;
    }
    // Twice the default interval: long enough for a loop that ignored
    // the setting to have polled.
    tokio::time::sleep(2 * README_SYNC_DELAY).await;

    // Assert
    assert_eq!(
        list_posts(&b, &token).await.0,
        200,
        "B has not polled since the revocation"
    );
}

#[tokio::test]
async fn a_key_rotated_in_the_database_reaches_the_other_instances_by_the_reload_loop() {
    // Arrange: both instances reload their keys every second.
    let every_second = |s: &mut tollgate::Settings| s.key_reload_interval = Duration::from_secs(1);
    let a = TestApp::serve_with(every_second).await;
    let b = a.another_instance(every_second).await;
    let old_kids = jwks_kids(&b).await;
    assert_eq!(old_kids.len(), 2, "one per kind: {old_kids:?}");

    // Act: what `tollgate keys rotate` does, from outside both servers.
    let rotated = rotate_es256(&a).await;

    // Assert: B publishes the new key without ever having been shown a
    // token with an unknown kid, and keeps the old one.
    wait_until(
        Duration::from_secs(1) + SLACK,
        "B's JWKS lists the new key",
        || async { jwks_kids(&b).await.contains(&rotated.kid) },
    )
    .await;
    let kids = jwks_kids(&b).await;
    assert!(old_kids.iter().all(|k| kids.contains(k)), "{kids:?}");
    // A signs with the new key once its own loop has reloaded, and B
    // verifies that token with the key its loop loaded.
    wait_until(
        Duration::from_secs(1) + SLACK,
        "A's JWKS lists the new key",
        || async { jwks_kids(&a).await.contains(&rotated.kid) },
    )
    .await;
    let client = cc_client(&a).await;
    let token = client_credentials_token(&a, &client).await;
    assert_eq!(kid_of(&token), rotated.kid);
    assert_eq!(list_posts(&b, &token).await.0, 200);
}

/// What `tollgate keys rotate` does; returns the new ES256 key, the one
/// that signs access tokens.
async fn rotate_es256(app: &TestApp) -> entity::signing_key::Model {
    tollgate::secrets::signing_keys::rotate(&app.state.db, None, Clock::default().now())
        .await
        .unwrap()
        .into_iter()
        .find(|key| key.algorithm == "ES256")
        .expect("a new ES256 key")
}

/// The `kid` in a JWT's header.
fn kid_of(jwt: &str) -> String {
    let header = jwt.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

/// A token whose header names `kid`; its signature is junk.
fn token_with_kid(kid: &str) -> String {
    let header = serde_json::json!({"alg": "ES256", "typ": "at+jwt", "kid": kid});
    let encode = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.{}",
        encode(&header),
        encode(&serde_json::json!({})),
        URL_SAFE_NO_PAD.encode([7u8; 64])
    )
}

#[tokio::test]
async fn a_made_up_kid_spends_the_reload_so_a_second_unknown_kid_soon_after_is_refused() {
    // Arrange: two instances that know only the first key and hear of no
    // rotation but through unknown kids.
    let a = TestApp::serve().await;
    let b = a.another_instance_without_loops().await;
    let c = a.another_instance_without_loops().await;
    let (status, body) = list_posts(&b, &token_with_kid("made-up")).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("unknown key"),
        "{body}"
    );

    // Act: a key rotated after B's reload, and a real token signed with it.
    let rotated = rotate_es256(&a).await;
    let signer = AppState::build(
        a.state.db.clone(),
        (*a.state.settings).clone(),
        Clock::default(),
    )
    .await
    .unwrap();
    let token = tollgate::auth::access_token::issue(
        &signer.auth,
        &Subject::Client {
            client_id: "svc".to_owned(),
        },
        "svc",
        &ScopeSet::parse("blog:read").unwrap(),
        uuid::Uuid::new_v4(),
        signer.clock.now(),
    )
    .unwrap()
    .token;
    assert_eq!(kid_of(&token), rotated.kid);

    // Assert: B, whose reload the made-up kid spent, does not reload again
    // within the throttle interval; C, which saw no unknown kid, reloads
    // on this one and accepts the token.
    let (status, body) = list_posts(&b, &token).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("unknown key"),
        "{body}"
    );
    assert_eq!(list_posts(&c, &token).await.0, 200);
}

/// Revocations made through the management core at A (what the account
/// page and the admin API call) reach B as revocations at A's token
/// endpoint do: a revoked consent, a disabled user, a deleted client.
#[tokio::test]
async fn a_consent_revoked_a_user_disabled_or_a_client_deleted_at_one_instance_is_refused_by_another()
 {
    use tollgate::manage::{self, Actor, Effects};

    let a = TestApp::serve().await;
    let b = a.another_instance(|_| {}).await;
    let alice = a.user("alice").await;
    let bob = a.user("bob").await;
    let app = a.oauth_client(ClientSpec::default()).await;
    let alices = a.tokens_for(&alice, &app, "blog:read").await;
    let bobs = a.tokens_for(&bob, &app, "blog:read").await;
    let service = cc_client(&a).await;
    let services = client_credentials_token(&a, &service).await;
    let alices = field(&alices, "access_token").to_owned();
    let bobs = field(&bobs, "access_token").to_owned();
    for token in [&alices, &bobs, &services] {
        assert_eq!(list_posts(&b, token).await.0, 200);
    }

    let fx = Effects::server(&a.state, Actor::CommandLine);
    let alice_id = a.user_row(&alice).await.id;
    manage::access::revoke_app(&fx, alice_id, &app.client_id)
        .await
        .unwrap();
    let bob_row = a.user_row(&bob).await;
    manage::users::disable(&fx, bob_row).await.unwrap();
    manage::clients::delete(&fx, &service.client_id)
        .await
        .unwrap();

    for (token, what) in [
        (&alices, "a revoked consent's token"),
        (&bobs, "a disabled user's token"),
        (&services, "a deleted client's token"),
    ] {
        assert_eq!(list_posts(&a, token).await.0, 401, "A refuses {what}");
        wait_until(README_SYNC_DELAY + SLACK, what, || async {
            list_posts(&b, token).await.0 == 401
        })
        .await;
    }
}

/// A token request at `app` with `secret`: its status.
async fn client_credentials_status(app: &TestApp, client_id: &str, secret: &str) -> u16 {
    let client = TestClientApp {
        client_id: client_id.to_owned(),
        secret: Some(secret.to_owned()),
    };
    app.token_basic(&client, &[("grant_type", "client_credentials")])
        .await
        .0
}

/// What the admin API's secret rotation does at `app`; returns the new secret.
async fn rotate_secret(app: &TestApp, client_id: &str) -> String {
    use tollgate::manage::{self, Actor, Effects};
    let fx = Effects::server(&app.state, Actor::CommandLine);
    manage::clients::rotate_secret(&fx, client_id)
        .await
        .unwrap()
        .secret()
        .to_owned()
}

#[tokio::test]
async fn a_client_changed_at_one_instance_is_reread_by_another_within_the_sync_interval() {
    // Arrange: B has the client cached (its cache keeps a client 30 s).
    let a = TestApp::serve().await;
    let b = a.another_instance(|_| {}).await;
    let client = cc_client(&a).await;
    let old = client.secret.clone().unwrap();
    assert_eq!(
        client_credentials_status(&b, &client.client_id, &old).await,
        200
    );

    // Act
    let new = rotate_secret(&a, &client.client_id).await;

    // Assert
    wait_until(
        README_SYNC_DELAY + SLACK,
        "B refuses the old secret",
        || async { client_credentials_status(&b, &client.client_id, &old).await == 401 },
    )
    .await;
    assert_eq!(
        client_credentials_status(&b, &client.client_id, &new).await,
        200
    );
}

#[tokio::test]
async fn a_key_rotated_by_the_command_line_reaches_every_instance_through_the_change_log() {
    // Arrange: neither instance reloads its keys on its own within the test.
    let hourly = |s: &mut tollgate::Settings| s.key_reload_interval = Duration::from_secs(3600);
    let a = TestApp::serve_with(hourly).await;
    let b = a.another_instance(hourly).await;

    // Act
    let rotated = rotate_es256(&a).await;

    // Assert: both publish it, and A signs with it, which B accepts.
    for (app, name) in [(&a, "A"), (&b, "B")] {
        wait_until(
            README_SYNC_DELAY + SLACK,
            &format!("{name}'s JWKS lists the new key"),
            || async { jwks_kids(app).await.contains(&rotated.kid) },
        )
        .await;
    }
    let client = cc_client(&a).await;
    let token = client_credentials_token(&a, &client).await;
    assert_eq!(kid_of(&token), rotated.kid);
    assert_eq!(list_posts(&b, &token).await.0, 200);
}

/// On PostgreSQL, B polls only hourly here: only the notification can
/// bring it A's changes. On SQLite, which has no notifications, the same
/// changes come with B's poll at the default interval.
#[tokio::test]
async fn changes_reach_another_instance_at_once_on_postgresql_and_by_the_poll_on_sqlite() {
    // Arrange
    let a = TestApp::serve().await;
    let postgres = a.state.db.get_database_backend() == sea_orm::DbBackend::Postgres;
    let b = a
        .another_instance(|s| {
            if postgres {
                s.peer_sync_interval = Duration::from_secs(3600);
            }
        })
        .await;
    let within = if postgres {
        SLACK
    } else {
        README_SYNC_DELAY + SLACK
    };
    let client = cc_client(&a).await;
    let token = client_credentials_token(&a, &client).await;
    let old = client.secret.clone().unwrap();
    assert_eq!(list_posts(&b, &token).await.0, 200);
    assert_eq!(
        client_credentials_status(&b, &client.client_id, &old).await,
        200
    );

    // Act: a revocation, then a client change.
    let (status, body) = post_as(&a, "/oauth/revoke", &client, &[("token", &token)]).await;
    assert_eq!(status, 200, "{body}");
    wait_until(within, "B refuses the revoked token", || async {
        list_posts(&b, &token).await.0 == 401
    })
    .await;
    rotate_secret(&a, &client.client_id).await;

    // Assert
    wait_until(within, "B refuses the old secret", || async {
        client_credentials_status(&b, &client.client_id, &old).await == 401
    })
    .await;
}
