//! `tollgate keys rotate`: a new current key of every kind (ES256, RS256),
//! the old ones published until the tokens they signed have expired.

use std::time::Duration;

use clap::Parser;
use jsonwebtoken::Algorithm;
use tollgate::cli::{self, Cli};

use crate::access_tokens::{
    access_token, assert_refused, fresh_claims, get_posts, header_and_claims, sign, signing_key,
};
use crate::helpers::{TestApp, json};
use crate::keys_at_rest::{KEK, kek, restart_with, stored_private_keys};

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

/// The kid of the current RS256 key the app has loaded.
fn current_rs256_kid(app: &TestApp) -> String {
    app.state
        .keys
        .snapshot()
        .current_for(Algorithm::RS256)
        .expect("a current RS256 key")
        .kid
        .clone()
}

fn kid_of(token: &str) -> String {
    header_and_claims(token).0["kid"]
        .as_str()
        .expect("kid")
        .to_owned()
}

#[tokio::test]
async fn rotating_makes_a_new_key_of_each_kind_current_and_the_jwks_lists_old_and_new() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let es256_before = kid_of(&access_token(&app, &alice, "blog:read").await);
    let rs256_before = current_rs256_kid(&app);

    // Act
    let output = rotate_with_the_cli(&app).await;
    app.state.refresh_keys().await;

    // Assert
    let es256_after = kid_of(&access_token(&app, &alice, "blog:read").await);
    let rs256_after = current_rs256_kid(&app);
    assert_ne!(es256_after, es256_before, "a new ES256 key signs");
    assert_ne!(rs256_after, rs256_before, "a new RS256 key is current");
    for (kid, alg) in [(&es256_after, "ES256"), (&rs256_after, "RS256")] {
        assert!(
            output.contains(&format!("new signing key {kid} ({alg}) is current")),
            "the command names each new kid: {output}"
        );
    }
    let mut all = vec![es256_before, es256_after, rs256_before, rs256_after];
    all.sort();
    assert_eq!(published_kids(&app).await, all);
    let current = tollgate::store::signing_keys::current_algorithms(&app.state.db)
        .await
        .expect("current keys");
    assert_eq!(current, ["ES256", "RS256"]);
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
    let rotated = rotated
        .iter()
        .find(|k| k.algorithm == "ES256")
        .expect("a new ES256 key");
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
    let old_rs256 = current_rs256_kid(&app);
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

    // Assert: both old keys (ES256 and RS256) were published while
    // needed, and neither is afterwards.
    assert_eq!(while_needed.len(), 4, "{while_needed:?}");
    assert!(while_needed.contains(&old_kid));
    assert!(while_needed.contains(&old_rs256));
    assert_eq!(afterwards.len(), 2, "{afterwards:?}");
    assert!(!afterwards.contains(&old_kid), "{afterwards:?}");
    assert!(!afterwards.contains(&old_rs256), "{afterwards:?}");
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
    let mut now_current = vec![kid_of(&current), current_rs256_kid(&app)];
    now_current.sort();
    assert_eq!(now_current, afterwards);
    get_posts(&app, &current).await.assert_status_is_ok();
}

#[tokio::test]
async fn two_concurrent_rotations_leave_exactly_one_current_key_per_kind() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let original = kid_of(&access_token(&app, &alice, "blog:read").await);
    let original_rs256 = current_rs256_kid(&app);

    // Act: two operators run `tollgate keys rotate` at once. `cli::run`
    // is not `Send`, so both share this task, but each opens its own
    // connection and their statements interleave in the database.
    let (first, second) = tokio::join!(rotate_with_the_cli(&app), rotate_with_the_cli(&app));
    let outputs = [first, second];
    app.state.refresh_keys().await;

    // Assert: both succeeded, one after the other, so one key of each
    // kind is current and the JWKS lists them with the four they retired.
    let current = tollgate::store::signing_keys::current_algorithms(&app.state.db)
        .await
        .expect("current keys");
    assert_eq!(current, ["ES256", "RS256"], "{outputs:?}");
    let signing = kid_of(&access_token(&app, &alice, "blog:read").await);
    let signing_rs256 = current_rs256_kid(&app);
    let published = published_kids(&app).await;
    assert_eq!(published.len(), 6, "{published:?}");
    for kid in [&original, &signing, &original_rs256, &signing_rs256] {
        assert!(published.contains(kid), "{kid} in {published:?}");
    }
    assert_ne!(signing, original);
    assert_ne!(signing_rs256, original_rs256);
    for kid in [&signing, &signing_rs256] {
        assert!(
            outputs.iter().any(|out| out.contains(kid.as_str())),
            "one of the rotations made {kid}: {outputs:?}"
        );
    }
    // The newer rotation made both current keys.
    assert!(
        outputs
            .iter()
            .any(|out| out.contains(&signing) && out.contains(&signing_rs256)),
        "{outputs:?}"
    );
}

#[tokio::test]
async fn a_retired_keys_private_half_is_erased_once_its_tokens_have_expired() {
    // Arrange: a retired key of each kind, and the current ones.
    let app = TestApp::spawn_with(|s| s.key_encryption_key = Some(kek(KEK))).await;
    let retired = stored_private_keys(&app.state.db).await;
    let retired: Vec<String> = retired.into_iter().map(|r| r.0).collect();
    assert_eq!(retired.len(), 2, "one of each kind: {retired:?}");
    tollgate::secrets::signing_keys::rotate(&app.state.db, Some(&kek(KEK)), app.clock().now())
        .await
        .unwrap();
    let ttl = app.state.settings.access_token_ttl.to_std().unwrap();
    let private_of = |rows: &[(String, String)], kid: &str| {
        rows.iter()
            .find(|r| r.0 == kid)
            .map(|r| r.1.clone())
            .expect("row")
    };

    // Act: a restart while its tokens may be live, then one after.
    app.clock().advance(ttl);
    restart_with(&app, Some(kek(KEK))).await.expect("starts");
    let while_needed = stored_private_keys(&app.state.db).await;
    app.clock().advance(Duration::from_secs(61));
    let later = restart_with(&app, Some(kek(KEK))).await.expect("starts");
    let afterwards = stored_private_keys(&app.state.db).await;

    // Assert: the ES256 and the RS256 private halves are erased alike.
    for kid in &retired {
        assert!(!private_of(&while_needed, kid).is_empty(), "{kid}");
        assert_eq!(private_of(&afterwards, kid), "", "{kid} erased");
    }
    assert_eq!(
        afterwards.len(),
        4,
        "the public halves stay: {afterwards:?}"
    );
    let current: Vec<_> = afterwards
        .iter()
        .filter(|r| !retired.contains(&r.0))
        .collect();
    assert_eq!(current.len(), 2, "{current:?}");
    assert!(
        current.iter().all(|r| r.1.starts_with("enc:v1:")),
        "{current:?}"
    );
    // The server still signs with the current keys, and publishes just them.
    let keys = later.keys.snapshot();
    assert_eq!(keys.jwks()["keys"].as_array().map(Vec::len), Some(2));
    let mut kinds: Vec<&str> = keys.jwks()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kty"].as_str().unwrap())
        .collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["EC", "RSA"]);
}
