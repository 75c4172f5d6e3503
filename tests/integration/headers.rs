//! Security headers: on every answer, on the pages, on the docs explorer,
//! and what changes when the issuer is https.

use poem::http::HeaderMap;

use crate::helpers::TestApp;
use crate::helpers::browser::{Browser, Page};
use crate::helpers::oauth::{ClientSpec, REDIRECT_URI};

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn set_cookie_names(page: &Page) -> Vec<String> {
    page.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split('=').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn every_answer_says_nosniff_and_no_referrer_but_no_hsts_over_http() {
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let mut browser = Browser::new();
    let redirect = browser
        .get(&app, &app.authorize_path(&client, "blog:unknown"))
        .await;
    assert!(redirect.location().is_some(), "an error redirect");
    let page = browser
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;
    let mut all = vec![redirect.headers, page.headers];
    for path in ["/healthz", "/api/v1/posts", "/oauth/jwks", "/nowhere"] {
        all.push(app.client.get(path).send().await.0.headers().clone());
    }
    for headers in &all {
        assert_eq!(header(headers, "x-content-type-options"), Some("nosniff"));
        assert_eq!(header(headers, "referrer-policy"), Some("no-referrer"));
        assert_eq!(header(headers, "strict-transport-security"), None);
    }
}

#[tokio::test]
async fn the_login_page_lets_its_form_post_here_and_redirect_only_to_the_client() {
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let page = Browser::new()
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;
    assert!(page.is_login_form());
    let csp = header(&page.headers, "content-security-policy").unwrap();
    let origin = url::Url::parse(REDIRECT_URI)
        .unwrap()
        .origin()
        .ascii_serialization();
    assert!(
        csp.contains(&format!("form-action 'self' {origin}")),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(header(&page.headers, "x-frame-options"), Some("DENY"));
}

#[tokio::test]
async fn the_docs_explorer_has_a_csp_and_cannot_be_framed() {
    let app = TestApp::spawn().await;
    for path in ["/docs", "/docs/oauth-receiver.html"] {
        let resp = app.client.get(path).send().await;
        resp.assert_status_is_ok();
        let headers = resp.0.headers();
        let csp = header(headers, "content-security-policy").unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("connect-src 'self'"), "{path}: {csp}");
        assert_eq!(header(headers, "x-frame-options"), Some("DENY"), "{path}");
    }
}

#[tokio::test]
async fn with_an_https_issuer_hsts_is_sent_and_cookies_are_host_prefixed() {
    // Arrange
    let app = TestApp::spawn_with(|s| {
        s.issuer = url::Url::parse("https://auth.example.com").unwrap();
    })
    .await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default().first_party()).await;
    let mut browser = Browser::new();

    // Act: the whole login, with the prefixed cookies.
    let login = browser
        .get(&app, &app.authorize_path(&client, "blog:read"))
        .await;
    let done = browser.log_in(&app, &login, &alice).await;

    // Assert
    assert_eq!(
        header(&login.headers, "strict-transport-security"),
        Some("max-age=31536000")
    );
    assert_eq!(set_cookie_names(&login), ["__Host-tollgate_login_csrf"]);
    assert!(
        set_cookie_names(&done).contains(&"__Host-tollgate_session".to_owned()),
        "{:?}",
        done.headers
    );
    assert!(done.redirect_params().contains_key("code"), "{}", done.body);
    for value in done.headers.get_all("set-cookie") {
        let value = value.to_str().unwrap().to_ascii_lowercase();
        assert!(
            value.contains("secure") && value.contains("path=/"),
            "{value}"
        );
        assert!(!value.contains("domain="), "{value}");
    }
}
