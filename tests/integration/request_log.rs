//! Every request carries an id, sent back in `X-Request-Id`; its log line,
//! and every line logged while answering it, name that id, the client's
//! address and who is calling, with the latency rounded.

use std::path::Path;

use poem::http::HeaderValue;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::binary::{Server, alice_with_a_key, run_json};
use crate::helpers::{TestApp, fresh_database_url};

fn echoed(resp: &poem::test::TestResponse) -> String {
    resp.0
        .headers()
        .get("x-request-id")
        .expect("an X-Request-Id header")
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_sane_request_id_is_sent_back_unchanged() {
    let app = TestApp::spawn().await;
    let longest = "a".repeat(64);
    for (path, id) in [
        ("/healthz", "abc.DEF_123-x"),
        ("/api/v1/posts", "7"),
        ("/nowhere", longest.as_str()),
    ] {
        let resp = app.client.get(path).header("x-request-id", id).send().await;
        assert_eq!(echoed(&resp), id, "{path}");
    }
}

#[tokio::test]
async fn a_request_without_an_id_gets_a_new_one_each_time() {
    let app = TestApp::spawn().await;
    let first = echoed(&app.client.get("/healthz").send().await);
    let second = echoed(&app.client.get("/api/v1/posts").send().await);
    assert!(Uuid::parse_str(&first).is_ok(), "{first}");
    assert!(Uuid::parse_str(&second).is_ok(), "{second}");
    assert_ne!(first, second);
}

#[tokio::test]
async fn an_id_that_is_empty_too_long_or_odd_is_replaced_by_a_new_one() {
    let app = TestApp::spawn().await;
    let too_long = "a".repeat(65);
    let odd = [
        HeaderValue::from_static(""),
        HeaderValue::from_str(&too_long).unwrap(),
        HeaderValue::from_static("has space"),
        HeaderValue::from_static("semi;colon"),
        HeaderValue::from_static("x\"y"),
        HeaderValue::from_static("a\tb"),
        HeaderValue::from_bytes("ünïcode".as_bytes()).unwrap(),
    ];
    for value in odd {
        let resp = app
            .client
            .get("/healthz")
            .header("x-request-id", value.clone())
            .send()
            .await;
        let id = echoed(&resp);
        assert!(Uuid::parse_str(&id).is_ok(), "{value:?} became {id}");
    }
}

/// alice with an API key, and a confidential client allowed client
/// credentials, through the real command line: the key, and the client's
/// id and secret.
fn alice_key_and_client(dir: &Path, database_url: &str) -> (String, String, String) {
    let key = alice_with_a_key(dir, database_url);
    let client = run_json(
        dir,
        database_url,
        &[
            "client",
            "create",
            "--name",
            "Reporter",
            "--redirect-uri",
            "https://reporter.example/cb",
            "--grant",
            "client_credentials",
            "--scope",
            "blog:read",
            "--json",
        ],
        "",
    );
    (
        key,
        client["client_id"].as_str().unwrap().to_owned(),
        client["client_secret"].as_str().unwrap().to_owned(),
    )
}

/// The lines of the server's log that contain `needle`, once the request
/// line (the one with `latency_ms`) is among them.
async fn lines_with(server: &mut Server, needle: &str) -> Vec<String> {
    server
        .wait_for_line(needle, |l| l.contains(needle) && l.contains("latency_ms"))
        .await;
    server
        .log()
        .lines()
        .filter(|l| l.contains(needle))
        .map(str::to_owned)
        .collect()
}

/// The text after `field=` up to the next space.
fn field<'a>(line: &'a str, field: &str) -> &'a str {
    let start = line
        .find(&format!(" {field}="))
        .or_else(|| line.find(&format!("{{{field}=")))
        .unwrap_or_else(|| panic!("no {field} in {line}"));
    let rest = &line[start + field.len() + 2..];
    rest.split([' ', '}']).next().unwrap()
}

/// Milliseconds with at most one decimal, e.g. `0.4` or `12`.
fn assert_rounded_ms(latency: &str) {
    let (_, decimals) = latency.split_once('.').unwrap_or((latency, ""));
    assert!(decimals.len() <= 1, "latency_ms={latency}");
    assert!(
        latency.parse::<f64>().unwrap() >= 0.0,
        "latency_ms={latency}"
    );
}

#[tokio::test]
async fn the_request_line_names_the_id_the_client_address_the_caller_and_a_rounded_latency() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database_url(dir.path()).await;
    let (key, client_id, secret) = alice_key_and_client(dir.path(), &database_url);
    let mut server = Server::start(dir.path(), &database_url, &[]).await;
    let http = reqwest::Client::new();

    // Act: an API key, an anonymous request, a client authenticating at
    // the token endpoint, and one that fails to.
    let with_key = http
        .get(format!("{}/api/v1/posts", server.base))
        .header("x-request-id", "log-key")
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    http.get(format!("{}/healthz", server.base))
        .header("x-request-id", "log-anonymous")
        .send()
        .await
        .unwrap();
    let token = http
        .post(format!("{}/oauth/token", server.base))
        .header("x-request-id", "log-client")
        .basic_auth(&client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "blog:read")])
        .send()
        .await
        .unwrap();
    http.post(format!("{}/oauth/token", server.base))
        .header("x-request-id", "log-bad-client")
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "nobody"),
        ])
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(with_key.status(), 200);
    assert_eq!(with_key.headers()["x-request-id"], "log-key");
    assert_eq!(token.status(), 200);
    let callers = [
        ("log-key", "user:alice".to_owned()),
        ("log-anonymous", "-".to_owned()),
        ("log-client", format!("client:{client_id}")),
        ("log-bad-client", "-".to_owned()),
    ];
    for (id, caller) in callers {
        let lines = lines_with(&mut server, &format!("request_id={id} ")).await;
        let line = lines.iter().find(|l| l.contains("latency_ms")).unwrap();
        assert_eq!(field(line, "client"), "127.0.0.1", "{line}");
        assert_eq!(field(line, "principal"), caller, "{line}");
        assert_rounded_ms(field(line, "latency_ms"));
    }
    // A line logged while answering carries the request's id too.
    let bad = lines_with(&mut server, "request_id=log-bad-client ").await;
    assert!(
        bad.iter()
            .any(|l| l.contains("client authentication failed")),
        "{bad:?}"
    );
}

#[tokio::test]
async fn json_log_lines_carry_the_request_id_and_the_caller() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database_url(dir.path()).await;
    let (key, _, _) = alice_key_and_client(dir.path(), &database_url);
    let mut server = Server::start(dir.path(), &database_url, &["--log-format", "json"]).await;

    // Act
    let resp = reqwest::Client::new()
        .get(format!("{}/api/v1/posts", server.base))
        .header("x-request-id", "json-key")
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(resp.status(), 200);
    let lines = lines_with(&mut server, "\"json-key\"").await;
    let line: Value = lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|l| l["fields"]["latency_ms"].is_number())
        .unwrap();
    assert_eq!(line["span"]["request_id"], "json-key", "{line}");
    assert_eq!(line["span"]["principal"], "user:alice", "{line}");
    assert_eq!(line["span"]["client"], "127.0.0.1", "{line}");
    assert_rounded_ms(&line["fields"]["latency_ms"].to_string());
}

#[tokio::test]
async fn an_error_page_shows_the_requests_own_id() {
    let app = TestApp::spawn().await;
    let resp = app
        .client
        .get("/oauth/authorize?response_type=code")
        .header("x-request-id", "page-id-42")
        .send()
        .await;
    resp.assert_status(poem::http::StatusCode::BAD_REQUEST);
    assert_eq!(echoed(&resp), "page-id-42");
    let body = resp.0.into_body().into_string().await.unwrap();
    assert!(body.contains("Request id: page-id-42"), "{body}");
}
