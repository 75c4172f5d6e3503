//! The management verbs of the command line, each with `--json`, acting
//! on a running server's database the way an operator would.

use clap::{CommandFactory, Parser};
use serde_json::{Value, json};
use tollgate::cli::Cli;
use tollgate::domain::{GrantType, Scope};

use crate::cli::{keys, tollgate, tollgate_json};
use crate::helpers::TestApp;
use crate::helpers::browser::Browser;
use crate::helpers::oauth::{ClientSpec, TestClientApp};

async fn api_status(app: &TestApp, access_token: &str) -> u16 {
    app.client
        .get("/api/v1/posts")
        .header("authorization", format!("Bearer {access_token}"))
        .send()
        .await
        .0
        .status()
        .as_u16()
}

async fn client_credentials(app: &TestApp, client: &TestClientApp, scope: &str) -> (u16, Value) {
    app.token_basic(
        client,
        &[("grant_type", "client_credentials"), ("scope", scope)],
    )
    .await
}

#[tokio::test]
async fn client_get_update_rotate_secret_and_delete() {
    let app = TestApp::spawn().await;
    let created = tollgate_json(
        &app,
        &[
            "client",
            "create",
            "--name",
            "Svc",
            "--grant",
            "client_credentials",
            "--scope",
            "blog:read",
            "--json",
        ],
        "",
    )
    .await;
    let client_id = created["client_id"].as_str().unwrap().to_owned();
    let old = TestClientApp {
        client_id: client_id.clone(),
        secret: created["client_secret"].as_str().map(str::to_owned),
    };

    let got = tollgate_json(&app, &["client", "get", &client_id, "--json"], "").await;
    assert_eq!(got["name"], "Svc");
    assert_eq!(got["public"], false);
    assert_eq!(got["grants"], json!(["client_credentials"]));
    assert!(
        got.get("client_secret").is_none(),
        "never the secret: {got}"
    );
    let (status, body) = client_credentials(&app, &old, "blog:read").await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_owned();

    let rotated = tollgate_json(&app, &["client", "rotate-secret", &client_id, "--json"], "").await;
    assert_eq!(keys(&rotated), ["client_id", "client_secret"]);
    let new = TestClientApp {
        client_id: client_id.clone(),
        secret: rotated["client_secret"].as_str().map(str::to_owned),
    };
    assert_ne!(new.secret, old.secret);
    // The server caches clients: a change from outside reaches it when the
    // cache entry ages out; a fresh server state sees it at once.
    app.state.client_cache.clear();
    assert_eq!(client_credentials(&app, &old, "blog:read").await.0, 401);
    assert_eq!(client_credentials(&app, &new, "blog:read").await.0, 200);

    let updated = tollgate_json(
        &app,
        &[
            "client",
            "update",
            &client_id,
            "--name",
            "Svc 2",
            "--scope",
            "blog:read",
            "blog:write",
            "--json",
        ],
        "",
    )
    .await;
    assert_eq!(updated["name"], "Svc 2");
    assert_eq!(updated["scopes"], json!(["blog:read", "blog:write"]));
    assert_eq!(updated["grants"], json!(["client_credentials"]), "kept");
    app.state.client_cache.clear();
    assert_eq!(client_credentials(&app, &new, "blog:write").await.0, 200);

    let bad = tollgate(
        &app,
        &["client", "update", &client_id, "--scope", "blog:reed"],
        "",
    )
    .await
    .unwrap_err();
    assert!(bad.contains("unknown scope 'blog:reed'"), "{bad}");
    let admin = tollgate(
        &app,
        &["client", "update", &client_id, "--scope", "admin"],
        "",
    )
    .await
    .unwrap_err();
    assert!(
        admin.contains("admin scope is only for first-party clients"),
        "{admin}"
    );

    assert_eq!(api_status(&app, &token).await, 200);
    let deleted = tollgate_json(&app, &["client", "delete", &client_id, "--json"], "").await;
    assert_eq!(deleted, json!({"client_id": client_id, "deleted": true}));
    app.state.sync_with_peers().await;
    assert_eq!(
        api_status(&app, &token).await,
        401,
        "its tokens are refused"
    );
    assert_eq!(client_credentials(&app, &new, "blog:read").await.0, 401);
    let gone = tollgate(&app, &["client", "get", &client_id], "")
        .await
        .unwrap_err();
    assert!(
        gone.contains(&format!("no client with id '{client_id}'")),
        "{gone}"
    );
}

#[tokio::test]
async fn a_public_client_has_no_secret_to_rotate() {
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::public()).await;
    let err = tollgate(&app, &["client", "rotate-secret", &client.client_id], "")
        .await
        .unwrap_err();
    assert!(
        err.contains("is public: it has no secret to rotate"),
        "{err}"
    );
}

#[tokio::test]
async fn user_disable_enable_set_password_and_delete() {
    let app = TestApp::spawn().await;
    let mut alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let tokens = app.tokens_for(&alice, &client, "blog:read").await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();

    let disabled = tollgate_json(&app, &["user", "disable", "alice", "--json"], "").await;
    assert_eq!(disabled["disabled"], true);
    assert!(disabled["disabled_at"].is_string(), "{disabled}");
    app.state.sync_with_peers().await;
    assert_eq!(api_status(&app, access).await, 401, "access token refused");
    let (status, body) = app.refresh(&client, refresh, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // The right password now only says the account is disabled.
    let mut browser = Browser::new();
    let login = browser
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;
    let page = browser.log_in(&app, &login, &alice).await;
    assert!(page.location().is_none(), "no code for a disabled user");
    assert!(
        page.body.contains("This account is disabled"),
        "{}",
        page.body
    );

    let enabled = tollgate_json(&app, &["user", "enable", "alice", "--json"], "").await;
    assert_eq!(enabled["disabled"], false);
    assert_eq!(enabled["disabled_at"], Value::Null);
    let tokens = app.tokens_for(&alice, &client, "blog:read").await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

    let short = tollgate(
        &app,
        &["user", "set-password", "alice", "--password-stdin"],
        "short\n",
    )
    .await
    .unwrap_err();
    assert!(short.contains("at least 12 characters"), "{short}");
    let reset = tollgate_json(
        &app,
        &[
            "user",
            "set-password",
            "alice",
            "--password-stdin",
            "--json",
        ],
        "a-brand-new-password\n",
    )
    .await;
    assert_eq!(reset["username"], "alice");
    let (status, _) = app.refresh(&client, &refresh, None).await;
    assert_eq!(status, 400, "a reset revokes refresh tokens");
    alice.password = "a-brand-new-password".to_owned();
    app.tokens_for(&alice, &client, "blog:read").await;

    let got = tollgate_json(&app, &["user", "get", "alice", "--json"], "").await;
    let id = got["id"].as_str().unwrap().to_owned();
    let by_id = tollgate_json(&app, &["user", "get", &id, "--json"], "").await;
    assert_eq!(by_id["username"], "alice");
    let deleted = tollgate_json(&app, &["user", "delete", "alice", "--json"], "").await;
    assert_eq!(
        deleted,
        json!({"id": id, "username": "alice", "deleted": true})
    );
    let gone = tollgate(&app, &["user", "get", "alice"], "")
        .await
        .unwrap_err();
    assert!(gone.contains("no user named 'alice'"), "{gone}");
}

#[tokio::test]
async fn consents_and_sessions_are_listed_and_revoked() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let tokens = app.tokens_for(&alice, &client, "blog:read").await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();

    let consents = tollgate_json(&app, &["consent", "list", "--user", "alice", "--json"], "").await;
    let consents = consents.as_array().unwrap();
    assert_eq!(consents.len(), 1, "{consents:?}");
    assert_eq!(consents[0]["client_id"], client.client_id.as_str());
    assert_eq!(consents[0]["client_name"], "Test App");
    assert_eq!(consents[0]["scopes"], json!(["blog:read"]));
    assert!(consents[0]["last_used_at"].is_string(), "{consents:?}");

    let sessions = tollgate_json(&app, &["session", "list", "--user", "alice", "--json"], "").await;
    let sessions = sessions.as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let sid = sessions[0]["sid"].as_str().unwrap().to_owned();

    let revoked = tollgate_json(
        &app,
        &[
            "consent",
            "revoke",
            "--user",
            "alice",
            "--client",
            &client.client_id,
            "--json",
        ],
        "",
    )
    .await;
    assert_eq!(revoked["revoked"], true);
    app.state.sync_with_peers().await;
    assert_eq!(api_status(&app, access).await, 401, "access token refused");
    let (status, body) = app.refresh(&client, refresh, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let none = tollgate_json(&app, &["consent", "list", "--user", "alice", "--json"], "").await;
    assert_eq!(none, json!([]));
    let again = tollgate(
        &app,
        &[
            "consent",
            "revoke",
            "--user",
            "alice",
            "--client",
            &client.client_id,
        ],
        "",
    )
    .await
    .unwrap_err();
    assert!(again.contains("no consent given to client"), "{again}");

    let ended = tollgate_json(
        &app,
        &["session", "revoke", "--user", "alice", &sid, "--json"],
        "",
    )
    .await;
    assert_eq!(ended["ended"], 1);
    let none = tollgate_json(&app, &["session", "list", "--user", "alice", "--json"], "").await;
    assert_eq!(none, json!([]));
    let unknown = tollgate(&app, &["session", "revoke", "--user", "alice", &sid], "")
        .await
        .unwrap_err();
    assert!(unknown.contains("no live session with id"), "{unknown}");
    let all = tollgate_json(
        &app,
        &["session", "revoke", "--user", "alice", "--all", "--json"],
        "",
    )
    .await;
    assert_eq!(all["ended"], 0);
}

#[tokio::test]
async fn keys_list_and_rotate_print_json() {
    let app = TestApp::spawn().await;
    let before = tollgate_json(&app, &["keys", "list", "--json"], "").await;
    let current = |list: &Value| -> Vec<String> {
        let mut kids: Vec<String> = list
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["current"] == true)
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect();
        kids.sort();
        kids
    };
    assert_eq!(current(&before).len(), 2, "one per algorithm: {before}");
    assert!(before.to_string().find("private").is_none(), "{before}");

    let rotated = tollgate_json(&app, &["keys", "rotate", "--json"], "").await;
    let mut new: Vec<String> = rotated
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    new.sort();
    let after = tollgate_json(&app, &["keys", "list", "--json"], "").await;
    assert_eq!(current(&after), new);
    for old in current(&before) {
        let row = after
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == old.as_str())
            .expect("old key still listed");
        assert!(row["retired_at"].is_string(), "{row}");
    }
}

#[tokio::test]
async fn api_key_revoke_and_delete_print_json() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let (id, key) = app.api_key_expiring(&alice, &["blog:read"], None).await;
    let id = id.to_string();
    let revoked = tollgate_json(&app, &["api-key", "revoke", &id, "--json"], "").await;
    assert_eq!(
        revoked,
        json!({"id": id, "revoked": true, "already_revoked": false})
    );
    let again = tollgate_json(&app, &["api-key", "revoke", &id, "--json"], "").await;
    assert_eq!(again["already_revoked"], true);

    let (other, other_key) = app.api_key_expiring(&alice, &["blog:read"], None).await;
    let other = other.to_string();
    let deleted = tollgate_json(&app, &["api-key", "delete", &other, "--json"], "").await;
    assert_eq!(deleted, json!({"id": other, "deleted": true}));
    app.state.sync_with_peers().await;
    for k in [&key, &other_key] {
        let resp = app
            .client
            .get("/api/v1/posts")
            .header("X-API-Key", k.as_str())
            .send()
            .await;
        resp.assert_status(poem::http::StatusCode::UNAUTHORIZED);
    }
    let list = tollgate(&app, &["api-key", "list", "--json"], "")
        .await
        .unwrap();
    assert!(list.contains(&id) && !list.contains(&other), "{list}");
    let gone = tollgate(&app, &["api-key", "delete", &other], "")
        .await
        .unwrap_err();
    assert!(gone.contains("no API key with id"), "{gone}");
}

#[tokio::test]
async fn migrate_and_gc_print_json() {
    let app = TestApp::spawn().await;
    let migrated = tollgate_json(&app, &["migrate", "--json"], "").await;
    assert_eq!(
        migrated,
        json!({"applied": []}),
        "the app's database is current"
    );
    let gc = tollgate_json(&app, &["gc", "--json"], "").await;
    assert!(gc["deleted"].is_object(), "{gc}");
}

/// Every option of every command says what it does; a subcommand's own
/// options come before the settings every command shares.
#[test]
fn help_describes_every_option_and_lists_the_commands_own_first() {
    fn walk(cmd: &clap::Command, path: &str) {
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            assert!(
                arg.get_help()
                    .is_some_and(|h| !h.to_string().trim().is_empty()),
                "`{path}` option `{id}` has no description"
            );
        }
        for sub in cmd.get_subcommands() {
            assert!(
                sub.get_about().is_some(),
                "`{path} {}` has no about",
                sub.get_name()
            );
            walk(sub, &format!("{path} {}", sub.get_name()));
        }
    }
    walk(&Cli::command(), "tollgate");

    let help = match Cli::try_parse_from(["tollgate", "client", "create", "--help"]) {
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => e.to_string(),
        other => panic!("expected help, got {other:?}"),
    };
    let own = help.find("--redirect-uri").expect("own option");
    let shared = help.find("--database-url").expect("shared setting");
    assert!(own < shared, "own options first:\n{help}");
    for scope in Scope::ALL {
        assert!(help.contains(scope.as_str()), "{scope} missing:\n{help}");
    }
    for grant in GrantType::ALL {
        assert!(help.contains(grant.as_str()), "{grant:?} missing:\n{help}");
    }
}
