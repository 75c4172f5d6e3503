//! The command line, driven in-process through `cli::run`.

use clap::Parser;
use serde_json::Value;
use tollgate::cli::{self, Cli};

use migration::{Migrator, MigratorTrait};

use crate::helpers::{TestApp, fresh_database_url};

/// Runs `tollgate --database-url <app's> ARGS` with `stdin`; Ok(stdout) or
/// Err(the error's message as `main` would print it).
pub(crate) async fn tollgate(app: &TestApp, args: &[&str], stdin: &str) -> Result<String, String> {
    tollgate_on(&app.database_url, args, stdin).await
}

/// As [`tollgate`], on any database.
pub(crate) async fn tollgate_on(
    database_url: &str,
    args: &[&str],
    stdin: &str,
) -> Result<String, String> {
    let mut argv = vec!["tollgate", "--database-url", database_url];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
    let mut input = std::io::Cursor::new(stdin.as_bytes().to_vec());
    let mut out = Vec::new();
    cli::run(cli, &mut input, &mut out)
        .await
        .map_err(|e| cli::report(&e))?;
    Ok(String::from_utf8(out).unwrap())
}

pub(crate) async fn tollgate_json(app: &TestApp, args: &[&str], stdin: &str) -> Value {
    let out = tollgate(app, args, stdin).await.expect("command succeeds");
    assert_eq!(out.lines().count(), 1, "exactly one line: {out}");
    serde_json::from_str(&out).expect("one JSON object")
}

pub(crate) fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[tokio::test]
async fn user_create_prints_the_contract_json_and_refuses_duplicates() {
    let app = TestApp::spawn().await;
    let user = tollgate_json(
        &app,
        &["user", "create", "alice", "--password-stdin", "--json"],
        "a-long-password\n",
    )
    .await;
    assert_eq!(keys(&user), ["id", "username"]);
    assert_eq!(user["username"], "alice");
    uuid::Uuid::parse_str(user["id"].as_str().unwrap()).expect("uuid id");

    let err = tollgate(
        &app,
        &["user", "create", "alice", "--password-stdin"],
        "another-password\n",
    )
    .await
    .expect_err("duplicate");
    assert!(err.contains("already taken"), "{err}");

    let err = tollgate(
        &app,
        &["user", "create", "bob", "--password-stdin"],
        "short\n",
    )
    .await
    .expect_err("weak password");
    assert!(err.contains("at least 12"), "{err}");

    let err = tollgate(
        &app,
        &["user", "create", "b o b", "--password-stdin"],
        "a-long-password\n",
    )
    .await
    .expect_err("bad name");
    assert!(err.contains("username"), "{err}");

    let list = tollgate(&app, &["user", "list", "--json"], "")
        .await
        .unwrap();
    let list: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list[0]["username"], "alice");
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_password_is_hashed_with_argon2id() {
    let app = TestApp::spawn().await;
    tollgate(
        &app,
        &["user", "create", "alice", "--password-stdin"],
        "a-long-password\n",
    )
    .await
    .unwrap();
    let user = tollgate::store::users::find_by_username(&app.state.db, "alice")
        .await
        .unwrap()
        .unwrap();
    assert!(
        user.password_hash.starts_with("$argon2id$"),
        "{}",
        user.password_hash
    );
    assert!(!user.password_hash.contains("a-long-password"));
}

#[tokio::test]
async fn client_create_prints_the_contract_json() {
    let app = TestApp::spawn().await;
    let conf = tollgate_json(
        &app,
        &[
            "client",
            "create",
            "--name",
            "Blog reader",
            "--redirect-uri",
            "https://app.example.com/cb",
            "--json",
        ],
        "",
    )
    .await;
    assert_eq!(
        keys(&conf),
        [
            "client_id",
            "client_secret",
            "grants",
            "redirect_uris",
            "scopes"
        ]
    );
    assert!(conf["client_secret"].as_str().unwrap().starts_with("tgs_"));
    assert_eq!(
        conf["redirect_uris"],
        serde_json::json!(["https://app.example.com/cb"])
    );
    assert_eq!(
        conf["scopes"],
        serde_json::json!(["blog:read", "blog:write", "openid", "profile", "email"])
    );
    assert_eq!(
        conf["grants"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );

    let public = tollgate_json(
        &app,
        &[
            "client",
            "create",
            "--name",
            "SPA",
            "--public",
            "--redirect-uri",
            "http://127.0.0.1:9000/cb",
            "http://[::1]:9000/cb",
            "--scope",
            "blog:read",
            "--grant",
            "authorization_code",
            "--json",
        ],
        "",
    )
    .await;
    assert_eq!(public["client_secret"], Value::Null);
    assert_eq!(public["redirect_uris"].as_array().unwrap().len(), 2);
    assert_eq!(public["scopes"], serde_json::json!(["blog:read"]));

    // The secret is stored only as a hash.
    let stored = tollgate::store::clients::find(&app.state.db, conf["client_id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    let secret = conf["client_secret"].as_str().unwrap();
    assert_eq!(
        stored.secret_hash.as_deref(),
        Some(tollgate::secrets::lookup_hash(secret).as_str())
    );

    let list = tollgate(&app, &["client", "list", "--json"], "")
        .await
        .unwrap();
    let list: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(
        !list.to_string().contains(secret),
        "list never shows a secret"
    );
}

#[tokio::test]
async fn client_create_refuses_bad_uris_scopes_and_grants() {
    let app = TestApp::spawn().await;
    let cases: &[(&[&str], &str)] = &[
        (&["--redirect-uri", "not a uri"], "invalid redirect URI"),
        (&["--redirect-uri", "http://example.com/cb"], "loopback"),
        (&["--redirect-uri", "https://x.example/cb#frag"], "fragment"),
        (
            &[
                "--redirect-uri",
                "https://x.example/cb",
                "--scope",
                "blog:delete",
            ],
            "unknown scope 'blog:delete'",
        ),
        (
            &[
                "--redirect-uri",
                "https://x.example/cb",
                "--grant",
                "implicit",
            ],
            "unknown grant 'implicit'",
        ),
        (
            &["--public", "--grant", "client_credentials"],
            "public client",
        ),
        (&[], "--redirect-uri"),
    ];
    for (extra, needle) in cases {
        let mut args = vec!["client", "create", "--name", "x"];
        args.extend_from_slice(extra);
        let err = tollgate(&app, &args, "").await.expect_err(needle);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let list = tollgate(&app, &["client", "list", "--json"], "")
        .await
        .unwrap();
    assert_eq!(list.trim(), "[]", "nothing half-registered");
}

#[tokio::test]
async fn an_api_key_from_the_cli_works_until_revoked() {
    let app = TestApp::spawn().await;
    tollgate(
        &app,
        &["user", "create", "alice", "--password-stdin"],
        "a-long-password\n",
    )
    .await
    .unwrap();
    let created = tollgate_json(
        &app,
        &[
            "api-key",
            "create",
            "--name",
            "laptop",
            "--owner",
            "alice",
            "--scope",
            "blog:read",
            "--json",
        ],
        "",
    )
    .await;
    assert_eq!(keys(&created), ["expires_at", "id", "key", "scopes"]);
    assert_eq!(created["expires_at"], Value::Null);
    assert_eq!(created["scopes"], serde_json::json!(["blog:read"]));
    let key = created["key"].as_str().unwrap();
    let id = created["id"].as_str().unwrap();

    let resp = app
        .client
        .get("/api/v1/posts")
        .header("X-API-Key", key)
        .send()
        .await;
    resp.assert_status_is_ok();

    let list = tollgate(&app, &["api-key", "list", "--owner", "alice", "--json"], "")
        .await
        .unwrap();
    assert!(list.contains(id) && !list.contains(key), "{list}");

    let out = tollgate(&app, &["api-key", "revoke", id], "")
        .await
        .unwrap();
    assert!(out.contains("revoked"), "{out}");
    // The server hears of a revocation made elsewhere when it syncs.
    app.state.sync_with_peers().await;
    let resp = app
        .client
        .get("/api/v1/posts")
        .header("X-API-Key", key)
        .send()
        .await;
    resp.assert_status(poem::http::StatusCode::UNAUTHORIZED);
    let again = tollgate(&app, &["api-key", "revoke", id], "")
        .await
        .unwrap();
    assert!(again.contains("already revoked"), "{again}");
    let list = tollgate(&app, &["api-key", "list", "--json"], "")
        .await
        .unwrap();
    let list: Value = serde_json::from_str(&list).unwrap();
    assert!(list[0]["revoked_at"].is_string());
}

#[tokio::test]
async fn api_key_create_refuses_unknown_owners_scopes_and_durations() {
    let app = TestApp::spawn().await;
    tollgate(
        &app,
        &["user", "create", "alice", "--password-stdin"],
        "a-long-password\n",
    )
    .await
    .unwrap();
    let err = tollgate(
        &app,
        &[
            "api-key",
            "create",
            "--name",
            "k",
            "--owner",
            "nobody",
            "--scope",
            "blog:read",
        ],
        "",
    )
    .await
    .expect_err("unknown owner");
    assert!(err.contains("no user named 'nobody'"), "{err}");
    let err = tollgate(
        &app,
        &[
            "api-key", "create", "--name", "k", "--owner", "alice", "--scope", "blog:all",
        ],
        "",
    )
    .await
    .expect_err("unknown scope");
    assert!(err.contains("unknown scope 'blog:all'"), "{err}");
    let err = tollgate(
        &app,
        &[
            "api-key",
            "create",
            "--name",
            "k",
            "--owner",
            "alice",
            "--scope",
            "blog:read",
            "--expires-in",
            "soon",
        ],
        "",
    )
    .await
    .expect_err("bad duration");
    assert!(err.contains("expires-in"), "{err}");
    let err = tollgate(
        &app,
        &["api-key", "revoke", "00000000-0000-4000-8000-000000000000"],
        "",
    )
    .await
    .expect_err("unknown id");
    assert!(err.contains("no API key"), "{err}");
}

#[tokio::test]
async fn an_expiring_key_reports_its_expiry() {
    let app = TestApp::spawn().await;
    tollgate(
        &app,
        &["user", "create", "alice", "--password-stdin"],
        "a-long-password\n",
    )
    .await
    .unwrap();
    let created = tollgate_json(
        &app,
        &[
            "api-key",
            "create",
            "--name",
            "k",
            "--owner",
            "alice",
            "--scope",
            "blog:read",
            "blog:write",
            "--expires-in",
            "30d",
            "--json",
        ],
        "",
    )
    .await;
    let expires =
        chrono::DateTime::parse_from_rfc3339(created["expires_at"].as_str().unwrap()).unwrap();
    let days = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_days();
    assert!((29..=30).contains(&days), "{days}");
    assert_eq!(
        created["scopes"],
        serde_json::json!(["blog:read", "blog:write"])
    );
}

#[tokio::test]
async fn migrate_on_a_fresh_database_names_what_it_applied_and_then_prints_nothing() {
    // Arrange: a database nothing has migrated yet.
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database_url(dir.path()).await;
    let expected: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| format!("applied migration {}", m.name()))
        .collect();

    // Act
    let first = tollgate_on(&database_url, &["migrate"], "").await.unwrap();
    let second = tollgate_on(&database_url, &["migrate"], "").await.unwrap();

    // Assert: every migration once, in order; nothing the second time.
    assert_eq!(first.lines().collect::<Vec<_>>(), expected, "{first}");
    assert_eq!(second, "", "nothing was pending");
    // The schema is really there, seen without migrating again.
    let db = tollgate::db::connect(&database_url).await.unwrap();
    let pending = Migrator::get_pending_migrations_read_only(&db)
        .await
        .unwrap();
    assert!(pending.is_empty(), "{} still pending", pending.len());
    assert!(tollgate::store::users::list(&db).await.unwrap().is_empty());
}

#[tokio::test]
async fn client_create_introspect_registers_a_resource_server_but_never_a_public_one() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let created = tollgate_json(
        &app,
        &[
            "client",
            "create",
            "--name",
            "api",
            "--grant",
            "client_credentials",
            "--introspect",
            "--json",
        ],
        "",
    )
    .await;
    let public = tollgate(
        &app,
        &[
            "client",
            "create",
            "--name",
            "spa",
            "--public",
            "--introspect",
            "--redirect-uri",
            "https://spa.example.com/cb",
        ],
        "",
    )
    .await;
    let list = tollgate(&app, &["client", "list", "--json"], "")
        .await
        .unwrap();

    // Assert
    let list: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list[0]["client_id"], created["client_id"]);
    assert_eq!(list[0]["introspect"], true, "{list}");
    let err = public.expect_err("a public resource server is refused");
    assert!(err.contains("public client cannot introspect"), "{err}");
}

#[tokio::test]
async fn user_create_and_update_keep_the_profile_claims() {
    let app = TestApp::spawn().await;
    tollgate(
        &app,
        &[
            "user",
            "create",
            "ada",
            "--password-stdin",
            "--name",
            "Ada Lovelace",
            "--email",
            "ada@example.com",
        ],
        "a-long-password-1\n",
    )
    .await
    .unwrap();
    let created = tollgate::store::users::find_by_username(&app.state.db, "ada")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(created.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(created.email.as_deref(), Some("ada@example.com"));
    assert!(
        !created.email_verified,
        "verified only when the operator says so"
    );

    let verified = tollgate_json(
        &app,
        &[
            "user",
            "update",
            "ada",
            "--email-verified",
            "true",
            "--json",
        ],
        "",
    )
    .await;
    assert_eq!(verified["email_verified"], true);
    assert_eq!(verified["name"], "Ada Lovelace");

    // A new address is unverified again; "" removes the name.
    let changed = tollgate_json(
        &app,
        &[
            "user",
            "update",
            "ada",
            "--email",
            "ada@example.org",
            "--name",
            "",
            "--json",
        ],
        "",
    )
    .await;
    assert_eq!(changed["email"], "ada@example.org");
    assert_eq!(changed["email_verified"], false);
    assert_eq!(changed["name"], Value::Null);

    let bad = tollgate(
        &app,
        &["user", "update", "ada", "--email", "not-an-email"],
        "",
    )
    .await
    .unwrap_err();
    assert!(bad.contains("invalid email"), "{bad}");
    let nobody = tollgate(&app, &["user", "update", "bob", "--name", "Bob"], "")
        .await
        .unwrap_err();
    assert!(nobody.contains("no user named 'bob'"), "{nobody}");
}

#[tokio::test]
async fn client_create_takes_the_openid_connect_settings() {
    let app = TestApp::spawn().await;
    let conf = tollgate_json(
        &app,
        &[
            "client",
            "create",
            "--name",
            "RP",
            "--redirect-uri",
            "https://rp.example.com/cb",
            "--id-token-alg",
            "ES256",
            "--post-logout-redirect-uri",
            "https://rp.example.com/bye",
            "--backchannel-logout-uri",
            "https://rp.example.com/backchannel",
            "--scope",
            "openid",
            "offline_access",
            "--json",
        ],
        "",
    )
    .await;
    let client = tollgate::store::clients::find(&app.state.db, conf["client_id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(client.id_token_alg.as_str(), "ES256");
    assert!(client.has_post_logout_redirect_uri("https://rp.example.com/bye"));
    assert!(!client.has_post_logout_redirect_uri("https://rp.example.com/bye/"));
    assert_eq!(
        client.backchannel_logout_uri.as_ref().map(|u| u.as_str()),
        Some("https://rp.example.com/backchannel")
    );
    assert_eq!(
        conf["scopes"],
        serde_json::json!(["openid", "offline_access"])
    );

    for (flag, value, needle) in [
        ("--id-token-alg", "HS256", "unknown ID token algorithm"),
        (
            "--post-logout-redirect-uri",
            "http://rp.example.com/bye",
            "post-logout redirect URI",
        ),
        (
            "--backchannel-logout-uri",
            "com.example.app:/bc",
            "back-channel logout URI",
        ),
    ] {
        let err = tollgate(
            &app,
            &[
                "client",
                "create",
                "--name",
                "RP",
                "--redirect-uri",
                "https://rp.example.com/cb",
                flag,
                value,
            ],
            "",
        )
        .await
        .unwrap_err();
        assert!(err.contains(needle), "{flag} {value}: {err}");
    }
}

#[tokio::test]
async fn api_keys_cannot_hold_openid_connect_scopes() {
    let app = TestApp::spawn().await;
    app.user("alice").await;
    let err = tollgate(
        &app,
        &[
            "api-key", "create", "--name", "k", "--owner", "alice", "--scope", "openid",
        ],
        "",
    )
    .await
    .unwrap_err();
    assert!(err.contains("cannot hold 'openid'"), "{err}");
}
