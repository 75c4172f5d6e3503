//! Password checks are bounded: beyond the workers and their queue, a
//! login is turned away at once with a 503 and `Retry-After`, never a 500,
//! and the server serves the next login as usual.

use futures_util::future::join_all;
use poem::http::StatusCode;

use crate::helpers::TestApp;
use crate::helpers::browser::{Browser, Page};
use crate::helpers::oauth::{ClientSpec, TestClientApp};

/// One worker and no queue: a second check at the same time is too many.
async fn app_with_one_password_worker() -> TestApp {
    TestApp::spawn_with(|s| {
        s.password_workers = 1;
        s.password_queue = 0;
    })
    .await
}

async fn password_grant(
    app: &TestApp,
    client: &TestClientApp,
    password: &str,
) -> (u16, Option<String>, String) {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "password"),
            ("client_id", client.client_id.as_str()),
            ("username", "alice"),
            ("password", password),
        ])
        .finish();
    let resp = app
        .client
        .post("/oauth/token")
        .content_type("application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await;
    let status = resp.0.status().as_u16();
    let retry_after = resp
        .0
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = resp.0.into_body().into_string().await.unwrap();
    (status, retry_after, text)
}

#[tokio::test]
async fn a_burst_of_password_grants_beyond_the_queue_gets_503_with_retry_after() {
    // Arrange
    let app = app_with_one_password_worker().await;
    let alice = app.user("alice").await;
    let client = app
        .oauth_client(ClientSpec::public().first_party().grants(&["password"]))
        .await;

    // Act: eight at once against one worker.
    let burst = (0..8).map(|_| password_grant(&app, &client, &alice.password));
    let answers = join_all(burst).await;

    // Assert
    let ok = answers.iter().filter(|(s, _, _)| *s == 200).count();
    let busy: Vec<_> = answers.iter().filter(|(s, _, _)| *s == 503).collect();
    assert!(ok >= 1, "{answers:?}");
    assert!(!busy.is_empty(), "{answers:?}");
    assert_eq!(
        ok + busy.len(),
        answers.len(),
        "only 200 or 503: {answers:?}"
    );
    for (_, retry_after, body) in busy {
        assert_eq!(retry_after.as_deref(), Some("1"));
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["error"], "temporarily_unavailable");
    }
    // Once the burst is over, a login works as usual.
    let (status, _, body) = password_grant(&app, &client, &alice.password).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_burst_of_logins_beyond_the_queue_shows_the_form_again_with_503() {
    // Arrange: eight browsers, each on the login page.
    let app = app_with_one_password_worker().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default().first_party()).await;
    let path = app.authorize_path(&client, "blog:read");
    let mut browsers = Vec::new();
    for _ in 0..8 {
        let mut browser = Browser::new();
        let page = browser.get(&app, &path).await;
        browsers.push((browser, page));
    }

    // Act: all of them sign in at once.
    let burst = browsers
        .iter_mut()
        .map(|(browser, page)| browser.log_in(&app, page, &alice));
    let pages: Vec<Page> = join_all(burst).await;

    // Assert
    let signed_in = pages
        .iter()
        .filter(|p| p.status == StatusCode::SEE_OTHER)
        .count();
    let busy: Vec<&Page> = pages
        .iter()
        .filter(|p| p.status == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    let statuses: Vec<_> = pages.iter().map(|p| p.status).collect();
    assert!(signed_in >= 1, "{statuses:?}");
    assert!(!busy.is_empty(), "{statuses:?}");
    assert_eq!(signed_in + busy.len(), pages.len(), "{statuses:?}");
    for page in busy {
        assert!(page.is_login_form(), "the form again: {}", page.body);
        assert!(
            page.body.contains("Too many people are signing in"),
            "{}",
            page.body
        );
        assert_eq!(page.headers.get("retry-after").unwrap(), "1");
    }
}
