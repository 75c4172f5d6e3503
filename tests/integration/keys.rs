//! `tollgate keys rotate`: a new current key, the old one published until
//! the tokens it signed have expired.

use std::time::Duration;

use clap::Parser;
use tollgate::cli::{self, Cli};

use crate::access_tokens::{
    access_token, assert_refused, fresh_claims, get_posts, header_and_claims, sign, signing_key,
};
use crate::helpers::{TestApp, json};

/// Runs `tollgate --database-url <app's> keys rotate` and returns its output.
async fn rotate_with_the_cli(app: &TestApp) -> String {
    let cli = Cli::try_parse_from([
        "tollgate",
        "--database-url",
        app.database_url.as_str(),
        "keys",
        "rotate",
    ])
    .expect("arguments parse");
    let mut input = std::io::Cursor::new(Vec::new());
    let mut out = Vec::new();
    cli::run(cli, &mut input, &mut out)
        .await
        .expect("keys rotate succeeds");
    String::from_utf8(out).unwrap()
}

async fn published_kids(app: &TestApp) -> Vec<String> {
    let jwks = json(app.client.get("/oauth/jwks").send().await).await;
    let mut kids: Vec<String> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect();
    kids.sort();
    kids
}

fn kid_of(token: &str) -> String {
    header_and_claims(token).0["kid"]
        .as_str()
        .expect("kid")
        .to_owned()
}

#[tokio::test]
async fn rotating_makes_a_new_kid_current_and_the_jwks_lists_both() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let before = kid_of(&access_token(&app, &alice, "blog:read").await);

    // Act
    let output = rotate_with_the_cli(&app).await;
    app.state.refresh_keys().await;

    // Assert
    let after = kid_of(&access_token(&app, &alice, "blog:read").await);
    assert_ne!(after, before, "a new key signs");
    assert!(
        output.contains(&after),
        "the command names the new kid: {output}"
    );
    let mut both = vec![before, after];
    both.sort();
    assert_eq!(published_kids(&app).await, both);
}

#[tokio::test]
async fn a_token_signed_before_rotation_still_works_after_it() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let old = access_token(&app, &alice, "blog:read").await;

    // Act
    rotate_with_the_cli(&app).await;
    app.state.refresh_keys().await;
    let new = access_token(&app, &alice, "blog:read").await;

    // Assert
    assert_ne!(kid_of(&old), kid_of(&new));
    get_posts(&app, &old).await.assert_status_is_ok();
    get_posts(&app, &new).await.assert_status_is_ok();
}

#[tokio::test]
async fn a_key_rotated_in_by_another_process_verifies_before_the_next_reload() {
    // Arrange: this app has not reloaded its keys since the rotation.
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let (_, claims) = header_and_claims(&access_token(&app, &alice, "blog:read").await);
    let rotated = tollgate::secrets::signing_keys::rotate(&app.state.db, None, app.clock().now())
        .await
        .expect("rotate");
    let key = signing_key(&app, &rotated.kid).await;

    // Act: a token another instance signed with the new key.
    let token = sign(
        &key.encoding,
        &key.kid,
        Some("at+jwt"),
        &fresh_claims(&app, &claims),
    );

    // Assert
    get_posts(&app, &token).await.assert_status_is_ok();
}

#[tokio::test]
async fn a_retired_key_leaves_the_jwks_once_the_tokens_it_signed_have_expired() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let old_token = access_token(&app, &alice, "blog:read").await;
    let old_kid = kid_of(&old_token);
    let (_, claims) = header_and_claims(&old_token);
    let old_key = signing_key(&app, &old_kid).await;
    rotate_with_the_cli(&app).await;
    app.state.refresh_keys().await;
    let ttl = app.state.settings.access_token_ttl.to_std().unwrap();

    // Act: at the access token lifetime, the old key may still be needed.
    app.clock().advance(ttl);
    app.state.refresh_keys().await;
    let while_needed = published_kids(&app).await;
    // Past the lifetime plus the 60 s margin, it is not.
    app.clock().advance(Duration::from_secs(61));
    app.state.refresh_keys().await;
    let afterwards = published_kids(&app).await;

    // Assert
    assert_eq!(while_needed.len(), 2, "{while_needed:?}");
    assert!(while_needed.contains(&old_kid));
    assert_eq!(afterwards.len(), 1, "{afterwards:?}");
    assert!(!afterwards.contains(&old_kid), "{afterwards:?}");
    // The old key no longer verifies anything, even a fresh-looking token.
    let late = sign(
        &old_key.encoding,
        &old_kid,
        Some("at+jwt"),
        &fresh_claims(&app, &claims),
    );
    assert_refused(&app, &late).await;
    // The current key still signs tokens that work.
    let current = access_token(&app, &alice, "blog:read").await;
    assert_eq!(vec![kid_of(&current)], afterwards);
    get_posts(&app, &current).await.assert_status_is_ok();
}

#[tokio::test]
async fn two_concurrent_rotations_leave_exactly_one_current_key() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let original = kid_of(&access_token(&app, &alice, "blog:read").await);

    // Act: two operators run `tollgate keys rotate` at once. `cli::run`
    // is not `Send`, so both share this task, but each opens its own
    // connection and their statements interleave in the database.
    let (first, second) = tokio::join!(rotate_with_the_cli(&app), rotate_with_the_cli(&app));
    let outputs = [first, second];
    app.state.refresh_keys().await;

    // Assert: both succeeded, one after the other, so one key is current
    // and the JWKS lists it with the two it retired.
    let current = tollgate::store::signing_keys::count_current(&app.state.db)
        .await
        .expect("count");
    assert_eq!(current, 1, "{outputs:?}");
    let signing = kid_of(&access_token(&app, &alice, "blog:read").await);
    let published = published_kids(&app).await;
    assert_eq!(published.len(), 3, "{published:?}");
    assert!(published.contains(&original), "{published:?}");
    assert!(published.contains(&signing), "{published:?}");
    assert_ne!(signing, original);
    assert!(
        outputs.iter().any(|out| out.contains(&signing)),
        "one of the rotations made the signing key: {outputs:?}"
    );
}
