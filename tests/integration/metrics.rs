//! `/metrics` stays bounded whatever requests arrive, and can be closed to
//! all but a bearer token.

use poem::http::{Method, StatusCode};
use tollgate::metrics::SecurityEvent;
use tollgate::secrets::SecretString;

use crate::helpers::TestApp;

async fn metrics_text(app: &TestApp) -> String {
    let resp = app.client.get("/metrics").send().await;
    resp.assert_status_is_ok();
    resp.0.into_body().into_string().await.unwrap()
}

fn request_series(text: &str) -> usize {
    text.lines()
        .filter(|l| l.starts_with("tollgate_http_requests_total{"))
        .count()
}

#[tokio::test]
async fn made_up_methods_and_paths_add_no_series() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act: forty made-up methods, forty made-up paths.
    for i in 0..40 {
        let method = Method::from_bytes(format!("FOO{i}").as_bytes()).unwrap();
        app.client.request(method, "/healthz").send().await;
        app.client.get(format!("/nowhere/{i}")).send().await;
        app.client
            .request(Method::POST, format!("/.well-known/x{i}"))
            .send()
            .await;
    }

    // Assert
    let text = metrics_text(&app).await;
    assert!(!text.contains("FOO"), "{text}");
    assert!(!text.contains("nowhere"), "{text}");
    assert!(text.contains(r#"method="other""#), "{text}");
    assert!(request_series(&text) <= 4, "{text}");
}

#[tokio::test]
async fn with_a_token_set_metrics_need_it_as_a_bearer() {
    // Arrange
    let token = "metrics-token-0123456789";
    let app = TestApp::spawn_with(|s| {
        s.metrics_token = Some(SecretString::new(token.to_owned()));
    })
    .await;

    // Act
    let none = app.client.get("/metrics").send().await;
    let wrong = app
        .client
        .get("/metrics")
        .header("authorization", "Bearer metrics-token-0123456780")
        .send()
        .await;
    let right = app
        .client
        .get("/metrics")
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await;

    // Assert
    for resp in [&none, &wrong] {
        assert_eq!(resp.0.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            resp.0.headers().get("www-authenticate").unwrap(),
            r#"Bearer realm="metrics""#
        );
    }
    right.assert_status_is_ok();
    let text = right.0.into_body().into_string().await.unwrap();
    assert!(text.contains("tollgate_http_requests_total"), "{text}");
}

#[tokio::test]
async fn replays_and_failed_client_authentication_are_counted_as_security_events() {
    use crate::helpers::browser::Browser;
    use crate::helpers::oauth::{ClientSpec, REDIRECT_URI, VERIFIER};

    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::public().first_party()).await;
    let code = app
        .authorize_code(&mut Browser::new(), &alice, &client, "blog:read")
        .await;
    let redeem = [
        ("grant_type", "authorization_code"),
        ("client_id", client.client_id.as_str()),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", VERIFIER),
    ];

    // Act: redeem, replay, and authenticate as nobody.
    assert_eq!(app.token(&redeem).await.0, 200);
    assert_eq!(app.token(&redeem).await.0, 400);
    let (status, _) = app
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", "nobody"),
        ])
        .await;

    // Assert
    assert_eq!(status, 401);
    let text = metrics_text(&app).await;
    for event in ["code_replayed", "client_auth_failed", "login_succeeded"] {
        assert!(
            text.contains(&format!(
                r#"tollgate_security_events_total{{event="{event}"}} 1"#
            )),
            "{event}: {text}"
        );
    }
}

#[tokio::test]
async fn with_a_metrics_bind_metrics_move_to_their_own_address() {
    // Arrange: a free port for the metrics listener.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let metrics_addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let app = TestApp::serve_with(move |s| s.metrics_bind = Some(metrics_addr)).await;
    let http = reqwest::Client::new();

    // Act
    let main = http
        .get(format!("{}/metrics", app.base_url()))
        .send()
        .await
        .unwrap();
    let health = http
        .get(format!("{}/healthz", app.base_url()))
        .send()
        .await
        .unwrap();
    let own = http
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .await
        .unwrap();
    let api = http
        .get(format!("http://{metrics_addr}/api/v1/posts"))
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(main.status(), 404);
    assert_eq!(health.status(), 200);
    assert_eq!(own.status(), 200);
    let text = own.text().await.unwrap();
    assert!(text.contains(r#"route="/healthz""#), "{text}");
    assert_eq!(api.status(), 404);
}

#[tokio::test]
async fn metrics_show_the_build_the_process_and_every_security_event_from_the_start() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let text = metrics_text(&app).await;

    // Assert
    let build = format!(
        r#"tollgate_build_info{{version="{}"}} 1"#,
        env!("CARGO_PKG_VERSION")
    );
    assert!(text.lines().any(|l| l == build), "{build}: {text}");
    for event in SecurityEvent::ALL {
        let series = format!(
            r#"tollgate_security_events_total{{event="{}"}} 0"#,
            event.as_str()
        );
        assert!(text.lines().any(|l| l == series), "{series}: {text}");
    }
    // The least each can be: this process has memory, files and a start
    // time after 2020 (its CPU time may still round to 0).
    for (process, least) in [
        ("process_resident_memory_bytes", 1.0),
        ("process_cpu_seconds_total", 0.0),
        ("process_open_fds", 1.0),
        ("process_max_fds", 1.0),
        ("process_start_time_seconds", 1.6e9),
    ] {
        let value = text
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{process} ")))
            .unwrap_or_else(|| panic!("no {process}: {text}"));
        let value: f64 = value.parse().unwrap();
        assert!(value >= least, "{process} {value}");
    }
}

#[tokio::test]
async fn the_pages_for_people_have_their_own_route_labels() {
    let app = TestApp::spawn().await;
    for path in ["/", "/login", "/account"] {
        app.client.get(path).send().await;
    }
    for path in ["/logout", "/account/sessions/end-others"] {
        app.client.post(path).send().await;
    }

    let text = metrics_text(&app).await;
    for label in ["/", "/login", "/account", "/logout"] {
        assert!(
            text.contains(&format!(r#"route="{label}""#)),
            "{label}: {text}"
        );
    }
    assert!(
        !text.contains("end-others"),
        "one label for every account path: {text}"
    );
    assert!(!text.contains(r#"route="other""#), "{text}");
}
