//! Private signing keys encrypted at rest with the key-encryption key
//! (`TOLLGATE_KEY_ENCRYPTION_KEY` or `TOLLGATE_KEY_ENCRYPTION_KEY_FILE`).

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use poem::EndpointExt;
use poem::test::TestClient;
use sea_orm::{ConnectionTrait, EntityTrait, Statement};
use tollgate::clock::Clock;
use tollgate::secrets::KeyEncryptionKey;
use tollgate::state::AppState;
use tollgate::{Application, Settings};

use crate::access_tokens::{access_token, get_posts, header_and_claims};
use crate::helpers::{TestApp, fresh_database_url};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");
/// Two unrelated keys, as `openssl rand -base64 32` prints them.
pub const KEK: &str = "q3Zr8pNwBc1m6Vt4Yx0aLd2Hs9Ue5Ko7Jf1Gi3Rb6Cg=";
const OTHER_KEK: &str = "Xj4nT8cW2qLp9Rv1Zb6Yk3Hs0Fd7Mg5Ea2Ou8Ni4Kt0=";

pub fn kek(text: &str) -> KeyEncryptionKey {
    KeyEncryptionKey::parse(text).expect("a valid key")
}

/// `(kid, private_key)` of every stored key, read from the column itself.
pub async fn stored_private_keys(db: &impl ConnectionTrait) -> Vec<(String, String)> {
    let stmt = Statement::from_string(
        db.get_database_backend(),
        "SELECT kid, private_key FROM signing_keys ORDER BY kid",
    );
    db.query_all_raw(stmt)
        .await
        .expect("select")
        .iter()
        .map(|row| {
            (
                row.try_get::<String>("", "kid").expect("kid"),
                row.try_get::<String>("", "private_key")
                    .expect("private_key"),
            )
        })
        .collect()
}

/// Asserts no stored private key is readable without the KEK: each is
/// marked encrypted and none decodes to a PKCS#8 key (EC or RSA) the way a
/// plain one does.
fn assert_all_encrypted(rows: &[(String, String)]) {
    assert!(!rows.is_empty());
    for (kid, private) in rows {
        assert!(private.starts_with("enc:v1:"), "{kid} is stored in clear");
        let plain = URL_SAFE_NO_PAD.decode(private).ok().is_some_and(|der| {
            aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
                &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &der,
            )
            .is_ok()
                || aws_lc_rs::rsa::KeyPair::from_pkcs8(&der).is_ok()
        });
        assert!(!plain, "{kid} is a readable private key");
    }
}

/// The algorithm of every stored key, sorted.
async fn algorithms(db: &impl ConnectionTrait) -> Vec<String> {
    let mut algs: Vec<String> = entity::signing_key::Entity::find()
        .all(db)
        .await
        .expect("select")
        .into_iter()
        .map(|k| k.algorithm)
        .collect();
    algs.sort();
    algs
}

/// Runs the real binary in `dir` with only the given `TOLLGATE_*` variables.
fn tollgate(dir: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(BIN);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TOLLGATE_") {
            command.env_remove(name);
        }
    }
    command
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .output()
        .expect("run the binary")
}

fn kid_of(token: &str) -> String {
    header_and_claims(token).0["kid"]
        .as_str()
        .expect("kid")
        .to_owned()
}

/// The app on the database of `app`, restarted with `kek`, sharing its clock.
pub async fn restart_with(
    app: &TestApp,
    kek: Option<KeyEncryptionKey>,
) -> anyhow::Result<AppState> {
    let mut settings = Settings::for_tests(&app.database_url);
    settings.key_encryption_key = kek;
    let db = tollgate::db::open(&app.database_url).await?;
    Ok(AppState::build(db, settings, app.clock().clone()).await?)
}

#[tokio::test]
async fn with_a_key_encryption_key_no_private_key_is_stored_in_clear() {
    // Arrange
    let app = TestApp::spawn_with(|s| s.key_encryption_key = Some(kek(KEK))).await;
    let alice = app.user("alice").await;
    let before = access_token(&app, &alice, "blog:read").await;
    let dir = tempfile::tempdir().unwrap();

    // Act: an operator rotates with the real binary, the KEK from a file.
    let kek_file = dir.path().join("kek");
    std::fs::write(&kek_file, format!("{KEK}\n")).unwrap();
    let rotated = tollgate(
        dir.path(),
        &[
            ("TOLLGATE_DATABASE_URL", &app.database_url),
            (
                "TOLLGATE_KEY_ENCRYPTION_KEY_FILE",
                kek_file.to_str().unwrap(),
            ),
        ],
        &["keys", "rotate"],
    );
    app.state.refresh_keys().await;
    let after = access_token(&app, &alice, "blog:read").await;

    // Assert
    assert!(rotated.status.success(), "{rotated:?}");
    let rows = stored_private_keys(&app.state.db).await;
    assert_eq!(rows.len(), 4, "two of each kind: {rows:?}");
    assert_all_encrypted(&rows);
    assert_eq!(
        algorithms(&app.state.db).await,
        ["ES256", "ES256", "RS256", "RS256"]
    );
    // The RSA key still opens: the server signs with it after a restart.
    let restarted = restart_with(&app, Some(kek(KEK))).await.expect("starts");
    assert!(
        restarted
            .keys
            .snapshot()
            .current_for(jsonwebtoken::Algorithm::RS256)
            .is_some()
    );
    assert_ne!(kid_of(&before), kid_of(&after));
    get_posts(&app, &before).await.assert_status_is_ok();
    get_posts(&app, &after).await.assert_status_is_ok();
}

#[tokio::test]
async fn plain_keys_are_encrypted_once_a_key_encryption_key_is_set() {
    // Arrange: plain keys of each kind (the first two retired, still
    // verifying), as before encryption existed.
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let old = access_token(&app, &alice, "blog:read").await;
    tollgate::secrets::signing_keys::rotate(&app.state.db, None, app.clock().now())
        .await
        .unwrap();
    app.state.refresh_keys().await;
    let current = access_token(&app, &alice, "blog:read").await;
    let plain = stored_private_keys(&app.state.db).await;
    assert!(
        plain.iter().all(|(_, p)| !p.starts_with("enc:")),
        "{plain:?}"
    );

    // Act: the server restarts with a KEK.
    let restarted = restart_with(&app, Some(kek(KEK))).await.expect("starts");

    // Assert: the same keys, now encrypted; no new key was made.
    let rows = stored_private_keys(&restarted.db).await;
    assert_all_encrypted(&rows);
    let kids = |rows: &[(String, String)]| rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>();
    assert_eq!(kids(&rows), kids(&plain));
    // Tokens signed before still verify, and new ones do.
    let client = TestClient::new(tollgate::startup::app(restarted.clone()).map_to_response());
    let bearer = |t: &str| format!("Bearer {t}");
    for token in [&old, &current] {
        client
            .get("/api/v1/posts")
            .header("authorization", bearer(token))
            .send()
            .await
            .assert_status_is_ok();
    }
    let mut app = app;
    app.state = restarted;
    app.client = TestClient::new(
        tollgate::startup::app(app.state.clone())
            .map_to_response()
            .boxed(),
    );
    let new = access_token(&app, &alice, "blog:read").await;
    assert_eq!(kid_of(&new), kid_of(&current));
    get_posts(&app, &new).await.assert_status_is_ok();
    // A second start finds nothing left to encrypt and changes nothing.
    let again = restart_with(&app, Some(kek(KEK))).await.expect("starts");
    assert_eq!(stored_private_keys(&again.db).await, rows);
}

#[tokio::test]
async fn a_wrong_key_encryption_key_stops_start_up_and_makes_no_new_key() {
    // Arrange
    let app = TestApp::spawn_with(|s| s.key_encryption_key = Some(kek(KEK))).await;
    let stored = stored_private_keys(&app.state.db).await;
    let mut settings = Settings::for_tests(&app.database_url);
    settings.key_encryption_key = Some(kek(OTHER_KEK));

    // Act
    let err = Application::build(settings)
        .await
        .err()
        .expect("start-up fails");

    // Assert
    let msg = format!("{err:#}");
    assert!(msg.contains("TOLLGATE_KEY_ENCRYPTION_KEY"), "{msg}");
    assert!(msg.contains("does not decrypt"), "{msg}");
    assert!(
        stored.iter().any(|(kid, _)| msg.contains(kid)),
        "names the key: {msg}"
    );
    assert!(!msg.contains(OTHER_KEK) && !msg.contains(KEK), "{msg}");
    assert_eq!(stored_private_keys(&app.state.db).await, stored);
}

#[tokio::test]
async fn an_encrypted_key_without_a_key_encryption_key_stops_start_up() {
    // Arrange
    let app = TestApp::spawn_with(|s| s.key_encryption_key = Some(kek(KEK))).await;
    let stored = stored_private_keys(&app.state.db).await;

    // Act
    let err = restart_with(&app, None).await.err().expect("fails");

    // Assert
    let msg = err.to_string();
    assert!(
        msg.contains(
            "neither TOLLGATE_KEY_ENCRYPTION_KEY nor TOLLGATE_KEY_ENCRYPTION_KEY_FILE is set"
        ),
        "{msg}"
    );
    assert!(
        stored.iter().any(|(kid, _)| msg.contains(kid)),
        "names the key: {msg}"
    );
    assert_eq!(stored_private_keys(&app.state.db).await, stored);
}

#[tokio::test]
async fn keys_rotate_with_a_wrong_key_encryption_key_fails_and_changes_nothing() {
    // Arrange
    let app = TestApp::spawn_with(|s| s.key_encryption_key = Some(kek(KEK))).await;
    let stored = stored_private_keys(&app.state.db).await;
    let dir = tempfile::tempdir().unwrap();

    // Act
    let out = tollgate(
        dir.path(),
        &[
            ("TOLLGATE_DATABASE_URL", &app.database_url),
            ("TOLLGATE_KEY_ENCRYPTION_KEY", OTHER_KEK),
        ],
        &["keys", "rotate"],
    );

    // Assert
    assert!(!out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("TOLLGATE_KEY_ENCRYPTION_KEY"), "{stderr}");
    assert!(!stderr.contains(OTHER_KEK), "{stderr}");
    assert_eq!(stored_private_keys(&app.state.db).await, stored);
}

#[tokio::test]
async fn both_key_encryption_settings_at_once_are_refused_naming_both() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database_url(dir.path()).await;
    let kek_file = dir.path().join("kek");
    std::fs::write(&kek_file, KEK).unwrap();

    // Act
    let out = tollgate(
        dir.path(),
        &[
            ("TOLLGATE_DATABASE_URL", &database_url),
            ("TOLLGATE_KEY_ENCRYPTION_KEY", KEK),
            (
                "TOLLGATE_KEY_ENCRYPTION_KEY_FILE",
                kek_file.to_str().unwrap(),
            ),
        ],
        &["keys", "rotate"],
    );

    // Assert
    assert!(!out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("TOLLGATE_KEY_ENCRYPTION_KEY or TOLLGATE_KEY_ENCRYPTION_KEY_FILE"),
        "{stderr}"
    );
    assert!(!stderr.contains(KEK), "{stderr}");
}

#[tokio::test]
async fn serve_demo_without_a_key_encryption_key_works_and_warns() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database_url(dir.path()).await;
    let mut command = Command::new(BIN);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TOLLGATE_") {
            command.env_remove(name);
        }
    }
    let mut child = command
        .args(["serve", "--demo", "--bind", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env("TOLLGATE_DATABASE_URL", &database_url)
        .env("TOLLGATE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    let (lines, received) = mpsc::channel();
    for (stream, reader) in [
        (
            "out",
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
        ),
        ("err", Box::new(child.stderr.take().expect("stderr"))),
    ] {
        let lines = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(reader).lines() {
                let Ok(line) = line else { break };
                if lines.send((stream, line)).is_err() {
                    break;
                }
            }
        });
    }

    // Act: read until the demo instructions are printed (the key exists
    // by then) and the start-up warning, if any, has come.
    let mut stdout = String::new();
    let mut warnings = Vec::new();
    while !stdout.contains("Or: curl") || warnings.is_empty() {
        // Generous: a debug build on a busy machine hashes the demo
        // password with argon2 before printing.
        match received.recv_timeout(Duration::from_secs(60)) {
            Ok(("out", line)) => stdout.push_str(&format!("{line}\n")),
            Ok((_, line)) if line.contains("stored in clear") => warnings.push(line),
            Ok(_) => {}
            Err(e) => {
                let _ = child.kill();
                panic!("{e}: stdout so far:\n{stdout}\nwarnings: {warnings:?}");
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();

    // Assert: it works as before, with one warning naming the settings.
    assert!(stdout.contains("Demo data created"), "{stdout}");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("TOLLGATE_KEY_ENCRYPTION_KEY"),
        "{warnings:?}"
    );
    let db = tollgate::db::open(&database_url).await.unwrap();
    let rows = stored_private_keys(&db).await;
    assert_eq!(rows.len(), 2, "one key of each kind: {rows:?}");
    assert!(
        rows.iter().all(|r| !r.1.starts_with("enc:")),
        "stored as today: {rows:?}"
    );
    // And a server started on it without a KEK works.
    AppState::build(db, Settings::for_tests(&database_url), Clock::default())
        .await
        .expect("starts without a KEK");
}
