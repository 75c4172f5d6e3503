//! Connection hygiene over a real port: idle connections, stalled or
//! trickled requests and connections beyond the cap are all closed.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

use crate::helpers::TestApp;

async fn connect(app: &TestApp) -> TcpStream {
    let addr = app.base_url().trim_start_matches("http://").to_owned();
    TcpStream::connect(addr).await.expect("connect")
}

/// Reads until the server closes the connection; returns what it sent and
/// how long that took.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match timeout(within, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => panic!(
                "still open after {within:?}: {}",
                String::from_utf8_lossy(&got)
            ),
        }
    }
    (
        String::from_utf8_lossy(&got).into_owned(),
        started.elapsed(),
    )
}

async fn app_with(idle: u64, request: u64, max: usize) -> TestApp {
    TestApp::serve_with(move |s| {
        s.idle_timeout = Duration::from_secs(idle);
        s.request_read_timeout = Duration::from_secs(request);
        s.max_connections = max;
    })
    .await
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let app = app_with(1, 30, 100).await;
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();

    let (answer, _) = read_until_closed(&mut stream, Duration::from_secs(10)).await;

    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn a_half_sent_head_and_a_stalled_body_are_closed_at_the_request_deadline() {
    // The idle timeout alone would not do: poem's closes idle connections
    // gracefully, and hyper waits for a request it has begun to read.
    let app = app_with(1, 2, 100).await;
    let mut head = connect(&app).await;
    head.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
        .await
        .unwrap();
    let mut body = connect(&app).await;
    body.write_all(
        b"POST /oauth/token HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type=",
    )
    .await
    .unwrap();

    let (head_answer, _) = read_until_closed(&mut head, Duration::from_secs(10)).await;
    let (body_answer, _) = read_until_closed(&mut body, Duration::from_secs(10)).await;

    assert!(!head_answer.contains("200 OK"), "{head_answer}");
    assert!(!body_answer.contains("access_token"), "{body_answer}");
}

#[tokio::test]
async fn a_head_trickled_a_byte_at_a_time_is_cut_off_at_the_request_deadline() {
    // Arrange: idle never fires (a line every 300 ms); the deadline is 2 s.
    let app = app_with(1, 2, 100).await;
    let stream = connect(&app).await;
    let (mut reader, mut writer) = stream.into_split();
    let trickle = tokio::spawn(async move {
        writer.write_all(b"GET /healthz HTTP/1.1\r\n").await.ok();
        for i in 0..40 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if writer
                .write_all(format!("X-{i}: y\r\n").as_bytes())
                .await
                .is_err()
            {
                break;
            }
        }
    });

    // Act
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    let read = timeout(Duration::from_secs(10), reader.read(&mut buf)).await;

    // Assert: closed well before the trickle's 12 s, with no answer.
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    trickle.abort();
}

#[tokio::test]
async fn connections_beyond_the_cap_are_closed_at_once_and_the_rest_still_serve() {
    // Arrange: three may be open.
    let app = app_with(60, 60, 3).await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(connect(&app).await);
    }
    // Let the server accept the three before the fourth arrives.
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Act
    let mut fourth = connect(&app).await;
    fourth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .ok();
    let (refused, _) = read_until_closed(&mut fourth, Duration::from_secs(5)).await;
    let mut first = open.remove(0);
    first
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (served, _) = read_until_closed(&mut first, Duration::from_secs(5)).await;

    // Assert
    assert!(refused.is_empty(), "{refused}");
    assert!(served.starts_with("HTTP/1.1 200"), "{served}");
    // A place is free again once one closes.
    drop(first);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut again = connect(&app).await;
    again
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (answer, _) = read_until_closed(&mut again, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
