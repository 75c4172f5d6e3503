//! `tollgate serve --demo` as a newcomer runs it: the real binary, its
//! printed instructions, and the secrets in them working.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine;
use poem::EndpointExt;
use poem::test::TestClient;
use tollgate::Settings;
use tollgate::clock::Clock;
use tollgate::demo::{DEMO_CLIENT_ID, DEMO_USERNAME};
use tollgate::state::AppState;

use crate::helpers::{fresh_database_url, json};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");
const ISSUER: &str = "http://127.0.0.1:8080";
const NOTHING_ADDED: &str = "--demo: the database already has users; nothing was added";

/// A running `tollgate serve`, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `tollgate serve --demo` in `dir` (so no developer's
/// `tollgate.toml` or `TOLLGATE_*` variable takes part) and returns what it
/// printed up to and including the first line containing `until`.
fn serve_demo(dir: &std::path::Path, database_url: &str, until: &str) -> (Server, String) {
    let mut command = Command::new(BIN);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TOLLGATE_") {
            command.env_remove(name);
        }
    }
    let mut child = command
        .args([
            "serve",
            "--demo",
            "--bind",
            "127.0.0.1:0",
            "--issuer",
            ISSUER,
        ])
        .current_dir(dir)
        .env("TOLLGATE_DATABASE_URL", database_url)
        .env("TOLLGATE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the binary");
    let stdout = child.stdout.take().expect("stdout");
    let server = Server(child);
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut printed = String::new();
    loop {
        // Generous: a debug build on a busy machine hashes the demo
        // password with argon2 before printing.
        match received.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => {
                printed.push_str(&line);
                printed.push('\n');
                if line.contains(until) {
                    return (server, printed);
                }
            }
            Err(e) => panic!("no line with {until:?} ({e}); printed so far:\n{printed}"),
        }
    }
}

/// The value after `label` on its line of the instructions.
fn printed_value<'a>(printed: &'a str, label: &str) -> &'a str {
    printed
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(label))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no {label:?} in:\n{printed}"))
}

#[tokio::test]
async fn serve_demo_prints_working_credentials_once_then_adds_nothing() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database_url(dir.path()).await;

    // Act: a first start on an empty database, then a second on the same.
    let (first_server, first) = serve_demo(dir.path(), &database_url, "Or: curl");
    drop(first_server);
    let (second_server, second) = serve_demo(dir.path(), &database_url, NOTHING_ADDED);
    drop(second_server);

    // Assert: the first printed everything a newcomer needs.
    assert!(first.contains("Demo data created (shown once)"), "{first}");
    assert!(first.contains(&format!("{ISSUER}/docs")), "{first}");
    assert_eq!(printed_value(&first, "client_id:"), DEMO_CLIENT_ID);
    let user_line = first
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("user:"))
        .unwrap_or_else(|| panic!("no user line in:\n{first}"));
    let (username, password) = user_line.trim().split_once(" / ").expect("user / password");
    assert_eq!(username, DEMO_USERNAME);
    let api_key = printed_value(&first, "API key:");
    assert!(api_key.starts_with("tgk_"), "{api_key}");
    assert!(!first.contains(NOTHING_ADDED), "{first}");
    // The second said it added nothing, and showed no secret again.
    assert!(!second.contains("Demo data created"), "{second}");
    assert!(!second.contains(api_key), "{second}");

    // The printed secrets work, against the same database in-process.
    let db = tollgate::db::open(&database_url).await.unwrap();
    let users = tollgate::store::users::list(&db).await.unwrap();
    assert_eq!(
        users.len(),
        1,
        "one demo user, nothing added the second time"
    );
    let state = AppState::build(db, Settings::for_tests(&database_url), Clock::default())
        .await
        .unwrap();
    let client = TestClient::new(tollgate::startup::app(state.clone()).map_to_response());
    client
        .get("/api/v1/posts")
        .header("x-api-key", api_key)
        .send()
        .await
        .assert_status_is_ok();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{DEMO_CLIENT_ID}:"));
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "password")
        .append_pair("username", username)
        .append_pair("password", password)
        .finish();
    let resp = client
        .post("/oauth/token")
        .header("authorization", format!("Basic {basic}"))
        .content_type("application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await;
    resp.assert_status_is_ok();
    assert!(json(resp).await["access_token"].is_string());
    // Nor a second API key.
    let keys = tollgate::store::api_keys::list(&state.db, None)
        .await
        .unwrap();
    assert_eq!(keys.len(), 1);
}
