//! Settings really applied: non-default lifetimes seen in tokens and in
//! expiry, and the real binary's configuration file, `--config` and `log`
//! handling, run with a scrubbed environment in a temp directory.

use std::time::Duration;

use crate::helpers::binary::tollgate;
use crate::helpers::browser::Browser;
use crate::helpers::instances::settings_from_flags;
use crate::helpers::oauth::ClientSpec;
use crate::helpers::{TestApp, fresh_database_url};
use crate::token::support::{
    assert_oauth_error, claims, field, list_posts, post_as, redeem, refresh,
};

/// The access tokens' leeway on `exp` (`auth::access_token::LEEWAY`).
const LEEWAY: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_non_default_access_token_lifetime_sets_expires_in_exp_and_expiry() {
    // Arrange: two minutes instead of fifteen.
    let flags = settings_from_flags(&["--access-token-ttl", "2m"]);
    let app = TestApp::spawn_with(|s| s.access_token_ttl = flags.access_token_ttl).await;
    let client = app
        .oauth_client(ClientSpec::default().grants(&["client_credentials"]))
        .await;

    // Act
    let (status, body) = app
        .token_basic(&client, &[("grant_type", "client_credentials")])
        .await;

    // Assert
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 120, "{body}");
    let token = field(&body, "access_token");
    let claims = claims(token);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        120
    );
    assert_eq!(list_posts(&app, token).await.0, 200);
    app.clock()
        .advance(Duration::from_secs(120) + LEEWAY + Duration::from_secs(1));
    let (status, body) = list_posts(&app, token).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("expired"),
        "{body}"
    );
}

#[tokio::test]
async fn a_non_default_refresh_token_lifetime_sets_its_exp_and_expiry() {
    // Arrange: one hour instead of thirty days.
    let flags = settings_from_flags(&["--refresh-token-ttl", "1h"]);
    let app = TestApp::spawn_with(|s| s.refresh_token_ttl = flags.refresh_token_ttl).await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let before = app.clock().now().timestamp();
    let tokens = app.tokens_for(&alice, &client, "blog:read").await;
    let after = app.clock().now().timestamp();
    let refresh_token = field(&tokens, "refresh_token");

    // Act
    let (status, seen) = post_as(
        &app,
        "/oauth/introspect",
        &client,
        &[("token", refresh_token)],
    )
    .await;

    // Assert: exp is one hour after issue, and the token dies then.
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["active"], true, "{seen}");
    let exp = seen["exp"].as_i64().unwrap();
    assert!(
        (before + 3600..=after + 3600).contains(&exp),
        "exp {exp} is not an hour after {before}..{after}"
    );
    app.clock().advance(Duration::from_secs(3600 + 1));
    let (status, body) = refresh(&app, &client, refresh_token, None).await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
}

#[tokio::test]
async fn a_non_default_code_lifetime_expires_codes_sooner() {
    // Arrange: ten seconds instead of sixty.
    let flags = settings_from_flags(&["--code-ttl", "10s"]);
    let app = TestApp::spawn_with(|s| s.code_ttl = flags.code_ttl).await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();
    let fresh = app
        .authorize_code(&mut browser, &alice, &client, "blog:read")
        .await;
    let (status, body) = redeem(&app, &client, &fresh).await;
    assert_eq!(status, 200, "a code redeemed at once works: {body}");
    let stale = app
        .authorize_code(&mut browser, &alice, &client, "blog:read")
        .await;

    // Act: eleven seconds later, well inside the default sixty.
    app.clock().advance(Duration::from_secs(11));
    let (status, body) = redeem(&app, &client, &stale).await;

    // Assert
    assert_oauth_error(status, &body, 400, "invalid_grant");
}

#[tokio::test]
async fn the_binary_reads_tollgate_toml_from_its_current_directory() {
    // Arrange: no --config, no TOLLGATE_* variables; the file alone names
    // the database.
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database_url(dir.path())
        .await
        .replace("/tollgate.db?", "/named-by-the-file.db?");
    std::fs::write(
        dir.path().join("tollgate.toml"),
        format!("database_url = \"{database_url}\"\n"),
    )
    .unwrap();

    // Act
    let out = tollgate(dir.path()).arg("migrate").output().unwrap();

    // Assert: the file's database was migrated, the default one never made.
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !dir.path().join("tollgate.db").exists(),
        "the default database was used instead of the file's"
    );
    let db = tollgate::db::connect(&database_url).await.unwrap();
    let pending = <migration::Migrator as migration::MigratorTrait>::get_pending_migrations(&db)
        .await
        .unwrap();
    assert!(pending.is_empty(), "{} migrations pending", pending.len());
    let applied = <migration::Migrator as migration::MigratorTrait>::get_applied_migrations(&db)
        .await
        .unwrap();
    assert!(!applied.is_empty());
}

#[tokio::test]
async fn a_config_flag_naming_a_missing_file_stops_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let out = tollgate(dir.path())
        .args(["--config", "missing.toml", "migrate"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    // The cause once (issue 11: it used to be printed twice).
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: cannot read config file missing.toml: No such file or directory (os error 2)\n"
    );
    assert!(
        !dir.path().join("tollgate.db").exists(),
        "nothing was opened"
    );
}

#[tokio::test]
async fn an_invalid_log_filter_stops_the_binary_naming_its_source() {
    // Every command validates every setting; `migrate` exits by itself
    // where a wrongly accepted filter would leave `serve` running.
    let dir = tempfile::tempdir().unwrap();
    for (how, name) in [("flag", "--log"), ("env", "TOLLGATE_LOG")] {
        let mut cmd = tollgate(dir.path());
        match how {
            "flag" => cmd.args(["--log", "tollgate=loudest", "migrate"]),
            _ => cmd.env("TOLLGATE_LOG", "tollgate=loudest").arg("migrate"),
        };
        let out = cmd.output().unwrap();
        assert!(!out.status.success(), "{how}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("invalid {name}: ")), "{how}: {err}");
        assert!(
            !dir.path().join("tollgate.db").exists(),
            "nothing was opened"
        );
    }
}
