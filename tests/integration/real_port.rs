//! The built binary on a real port: set up through its `--json` output,
//! then driven over HTTP, then stopped with SIGTERM or SIGINT, draining
//! requests in flight for at most `shutdown_grace`.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::binary::{Server, alice_with_a_key, tollgate};
use crate::helpers::fresh_database_url;

#[tokio::test]
async fn the_binary_serves_the_blog_api_over_http() {
    // Arrange: a database, a user and a key through the real command line.
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database_url(dir.path()).await;
    let key = alice_with_a_key(dir.path(), &database_url);
    let mut server = Server::start(dir.path(), &database_url, &[]).await;
    let base = server.base.clone();
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
    server.signal("TERM");
    let status = server.wait_for_exit(Duration::from_secs(10)).await;
    assert!(status.success(), "{status}");
}

/// A POST to create a post whose head and first half of the body are on
/// the wire, and which the server has started on: the head carries
/// `Expect: 100-continue`, and the server answers `100 Continue` only when
/// the handler starts reading the body.
struct SlowRequest {
    stream: TcpStream,
    rest: Vec<u8>,
}

impl SlowRequest {
    async fn start(server: &Server, key: &str) -> Self {
        let body =
            json!({"title": "Slow", "body": "sent in two halves", "published": true}).to_string();
        let (first, second) = body.as_bytes().split_at(body.len() / 2);
        let addr = server.addr();
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST /api/v1/posts HTTP/1.1\r\nHost: {addr}\r\nX-API-Key: {key}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\
             Expect: 100-continue\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let interim = read_head(&mut stream).await;
        assert!(
            interim.starts_with("HTTP/1.1 100"),
            "the server starts on the request: {interim}"
        );
        stream.write_all(first).await.unwrap();
        stream.flush().await.unwrap();
        Self {
            stream,
            rest: second.to_vec(),
        }
    }

    /// Sends the rest of the body and returns the response head.
    async fn finish(mut self) -> String {
        self.stream.write_all(&self.rest).await.unwrap();
        self.stream.flush().await.unwrap();
        read_head(&mut self.stream).await
    }
}

/// Reads one response head (up to the blank line), byte by byte so that
/// nothing after it is consumed.
async fn read_head(stream: &mut TcpStream) -> String {
    let read = async {
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let byte = stream.read_u8().await.expect("the connection stays open");
            head.push(byte);
        }
        String::from_utf8_lossy(&head).into_owned()
    };
    tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .expect("a response head arrives")
}

/// The signal arrives mid-request: the request completes, then the process
/// exits cleanly.
async fn a_request_in_flight_finishes_before_exiting_on(signal: &str) {
    // Arrange: a request the server has started on.
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database_url(dir.path()).await;
    let key = alice_with_a_key(dir.path(), &database_url);
    let mut server = Server::start(dir.path(), &database_url, &[]).await;
    let request = SlowRequest::start(&server, &key).await;

    // Act: the signal, seen by the server, then the rest of the body.
    server.signal(signal);
    server.wait_for_log("shutting down").await;
    assert!(
        server.is_running(),
        "the server must not exit while a request is in flight"
    );
    let response = request.finish().await;

    // Assert
    assert!(
        response.starts_with("HTTP/1.1 201"),
        "the in-flight request finishes: {response}"
    );
    let status = server.wait_for_exit(Duration::from_secs(30)).await;
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn sigterm_lets_a_request_in_flight_finish_before_exiting() {
    a_request_in_flight_finishes_before_exiting_on("TERM").await;
}

#[tokio::test]
async fn sigint_lets_a_request_in_flight_finish_before_exiting() {
    a_request_in_flight_finishes_before_exiting_on("INT").await;
}

#[tokio::test]
async fn a_request_slower_than_the_shutdown_grace_does_not_hold_the_exit() {
    // Arrange: a 1 s drain cap, and a request that will never complete.
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database_url(dir.path()).await;
    let key = alice_with_a_key(dir.path(), &database_url);
    let mut server = Server::start(dir.path(), &database_url, &["--shutdown-grace", "1s"]).await;
    let mut request = SlowRequest::start(&server, &key).await;

    // Act
    server.signal("TERM");

    // Assert: the process exits well before the 30 s default would let it,
    // and the stalled connection is closed.
    let status = server.wait_for_exit(Duration::from_secs(15)).await;
    assert!(status.success(), "{status}");
    let mut buf = [0u8; 256];
    let read = tokio::time::timeout(Duration::from_secs(10), request.stream.read(&mut buf))
        .await
        .expect("the connection is closed");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "no response to the cut-off request: {:?}",
        read.map(|n| String::from_utf8_lossy(&buf[..n]).into_owned())
    );
}

#[tokio::test]
async fn a_bad_setting_stops_start_up_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = tollgate(dir.path())
        .args(["serve"])
        .env("TOLLGATE_BIND", "not-an-address")
        .env("TOLLGATE_DATABASE_URL", "sqlite://unused.db?mode=ro")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid TOLLGATE_BIND: "), "{err}");
}

/// SIGTERM closes every database connection, the pool's last: on SQLite
/// the last one copies the WAL into the database and removes it, so the
/// file alone holds every write, and a copy of it is a whole backup.
#[tokio::test]
async fn after_sigterm_the_sqlite_file_alone_holds_every_write() {
    // Arrange: a server that has written posts and read them back inline.
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("tollgate.db");
    let database_url = format!("sqlite://{}?mode=rwc", db_path.display());
    let key = alice_with_a_key(dir.path(), &database_url);
    let mut server = Server::start(dir.path(), &database_url, &[]).await;
    let base = server.base.clone();
    let http = reqwest::Client::new();
    for i in 0..20 {
        let created: Value = http
            .post(format!("{base}/api/v1/posts"))
            .header("X-API-Key", &key)
            .json(&json!({"title": format!("kept {i}"), "body": "x", "published": true}))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["id"].as_str().expect("an id");
        let read = http
            .get(format!("{base}/api/v1/posts/{id}"))
            .header("X-API-Key", &key)
            .send()
            .await
            .unwrap();
        assert_eq!(read.status(), 200);
    }
    let side_file = |suffix: &str| dir.path().join(format!("tollgate.db{suffix}"));
    assert!(side_file("-wal").exists(), "a running server writes a WAL");

    // Act
    server.signal("TERM");
    let status = server.wait_for_exit(Duration::from_secs(10)).await;
    assert!(status.success(), "{status}");

    // Assert: no WAL or shared-memory file left, and a copy of the file
    // alone has every post.
    for suffix in ["-wal", "-shm"] {
        assert!(
            !side_file(suffix).exists(),
            "tollgate.db{suffix} was left behind: a connection was not closed"
        );
    }
    let elsewhere = tempfile::tempdir().unwrap();
    let copy = elsewhere.path().join("copy.db");
    std::fs::copy(&db_path, &copy).unwrap();
    let kept: i64 = rusqlite::Connection::open(&copy)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM posts WHERE title LIKE 'kept %'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(kept, 20);
}
