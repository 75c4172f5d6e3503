//! The built binary on a real port: set up through its `--json` output,
//! then driven over HTTP, then stopped with SIGTERM.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::fresh_database_url;

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs a management command of the real binary and parses its JSON.
fn run_json(database_url: &str, args: &[&str], stdin: &str) -> Value {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .env("TOLLGATE_DATABASE_URL", database_url)
        .env("TOLLGATE_LOG", "warn")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_until_ready(base: &str) {
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if let Ok(resp) = http.get(format!("{base}/readyz")).send().await
            && resp.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become ready");
}

/// Creates `alice` and an API key for her through the real command line;
/// returns the key.
fn alice_with_a_key(database_url: &str) -> String {
    let user = run_json(
        database_url,
        &["user", "create", "alice", "--password-stdin", "--json"],
        "a-long-password\n",
    );
    assert_eq!(user["username"], "alice");
    let key = run_json(
        database_url,
        &[
            "api-key",
            "create",
            "--name",
            "it",
            "--owner",
            "alice",
            "--scope",
            "blog:read",
            "blog:write",
            "--json",
        ],
        "",
    );
    key["key"].as_str().unwrap().to_owned()
}

/// Starts `tollgate serve` on a free port; returns it with its base URL
/// once it answers.
async fn serve(database_url: &str) -> (Server, String) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let child = Command::new(BIN)
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--issuer",
            &base,
        ])
        .env("TOLLGATE_DATABASE_URL", database_url)
        .env("TOLLGATE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    wait_until_ready(&base).await;
    (server, base)
}

fn sigterm(server: &Server) {
    let pid = server.0.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
}

async fn wait_for_exit(server: &mut Server, within: Duration) -> std::process::ExitStatus {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            return status;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server did not exit within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_binary_serves_the_blog_api_over_http() {
    // Arrange: a database, a user and a key through the real command line.
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database_url(dir.path()).await;
    let key = alice_with_a_key(&database_url);
    let (mut server, base) = serve(&database_url).await;
    let http = reqwest::Client::new();

    // Act and assert: the CRUD round trip.
    let created = http
        .post(format!("{base}/api/v1/posts"))
        .header("X-API-Key", &key)
        .json(&json!({"title": "Over the wire", "body": "hello", "published": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let post: Value = created.json().await.unwrap();
    assert_eq!(post["author"], "alice");

    let list: Value = http
        .get(format!("{base}/api/v1/posts"))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["id"], post["id"]);

    let updated = http
        .put(format!("{base}{location}"))
        .header("X-API-Key", &key)
        .json(&json!({"title": "Edited", "body": "hello again", "published": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), 200);
    assert_eq!(updated.json::<Value>().await.unwrap()["title"], "Edited");

    let deleted = http
        .delete(format!("{base}{location}"))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let gone = http
        .get(format!("{base}{location}"))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);

    let unauthorized = http
        .get(format!("{base}/api/v1/posts"))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), 401);
    assert!(
        unauthorized.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with(r#"Bearer error="invalid_token""#)
    );

    // SIGTERM stops it cleanly.
    sigterm(&server);
    let status = wait_for_exit(&mut server, Duration::from_secs(5)).await;
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn sigterm_lets_a_request_in_flight_finish_before_exiting() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    // Arrange: a POST whose headers and first half of the body are sent.
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database_url(dir.path()).await;
    let key = alice_with_a_key(&database_url);
    let (mut server, base) = serve(&database_url).await;
    let addr = base.trim_start_matches("http://");
    let body =
        json!({"title": "Slow", "body": "sent in two halves", "published": true}).to_string();
    let (first, second) = body.as_bytes().split_at(body.len() / 2);
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/posts HTTP/1.1\r\nHost: {addr}\r\nX-API-Key: {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(first).await.unwrap();
    stream.flush().await.unwrap();
    // Let the server read the head and start on the request.
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Act: SIGTERM mid-request, then the rest of the body.
    sigterm(&server);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        server.0.try_wait().unwrap().is_none(),
        "the server must not exit while a request is in flight"
    );
    stream.write_all(second).await.unwrap();
    stream.flush().await.unwrap();

    // Assert: the request completes, then the process exits cleanly.
    let mut response = Vec::new();
    let read_head = async {
        let mut buf = [0u8; 4096];
        while !response.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "the connection closed before a response");
            response.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read_head)
        .await
        .expect("the response arrives");
    let response = String::from_utf8_lossy(&response);
    assert!(
        response.starts_with("HTTP/1.1 201"),
        "the in-flight request finishes: {response}"
    );
    let status = wait_for_exit(&mut server, Duration::from_secs(10)).await;
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn a_bad_setting_stops_start_up_naming_it() {
    let out = Command::new(BIN)
        .args(["serve"])
        .env("TOLLGATE_BIND", "not-an-address")
        .env("TOLLGATE_DATABASE_URL", "sqlite://unused.db?mode=ro")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bind") && err.contains("environment"), "{err}");
}
