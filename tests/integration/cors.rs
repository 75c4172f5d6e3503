//! CORS for browser apps: the token, userinfo and revocation endpoints
//! for the origins of public clients' redirect URIs; discovery and the
//! JWKS for anyone.

use poem::http::HeaderMap;
use poem::test::TestResponse;

use crate::helpers::TestApp;
use crate::helpers::oauth::ClientSpec;

const SPA: &str = "https://spa.example.com";
const SPA_REDIRECT: &str = "https://spa.example.com/callback";
/// The confidential client's redirect URI (`ClientSpec::default`).
const SERVER_APP: &str = "https://app.example.com";

/// A public SPA client and a confidential client, each with its own origin.
async fn setup() -> TestApp {
    let app = TestApp::spawn().await;
    app.oauth_client(
        ClientSpec::public()
            .redirect_uris(&[SPA_REDIRECT, "com.example.spa:/callback"])
            .scopes("openid blog:read"),
    )
    .await;
    app.oauth_client(ClientSpec::default()).await;
    app
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn varies_on_origin(headers: &HeaderMap) -> bool {
    headers
        .get_all("vary")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',')
                .any(|p| p.trim().eq_ignore_ascii_case("origin"))
        })
}

async fn post_token_from(app: &TestApp, origin: &str) -> TestResponse {
    app.client
        .post("/oauth/token")
        .header("origin", origin)
        .content_type("application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&client_id=nobody")
        .send()
        .await
}

async fn preflight(app: &TestApp, path: &str, origin: &str, method: &str) -> TestResponse {
    app.client
        .options(path)
        .header("origin", origin)
        .header("access-control-request-method", method)
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
}

#[tokio::test]
async fn a_public_clients_origin_may_read_token_answers() {
    // Arrange
    let app = setup().await;

    // Act: an error answer, which the app must be able to read too.
    let resp = post_token_from(&app, SPA).await;

    // Assert
    assert_eq!(resp.0.status(), 401, "the request ran as usual");
    let headers = resp.0.headers();
    assert_eq!(header(headers, "access-control-allow-origin"), Some(SPA));
    assert!(varies_on_origin(headers), "{headers:?}");
    assert_eq!(
        header(headers, "access-control-allow-credentials"),
        None,
        "no credentials mode"
    );
}

#[tokio::test]
async fn a_preflight_from_a_public_clients_origin_is_answered() {
    // Arrange
    let app = setup().await;

    for (path, method) in [
        ("/oauth/token", "POST"),
        ("/oauth/userinfo", "GET"),
        ("/oauth/userinfo", "POST"),
        ("/oauth/revoke", "POST"),
    ] {
        // Act
        let resp = preflight(&app, path, SPA, method).await;

        // Assert
        assert_eq!(resp.0.status(), 204, "{path}");
        let headers = resp.0.headers();
        assert_eq!(header(headers, "access-control-allow-origin"), Some(SPA));
        let methods = header(headers, "access-control-allow-methods").unwrap_or_default();
        assert!(methods.contains(method), "{path}: {methods}");
        let allowed = header(headers, "access-control-allow-headers")
            .unwrap_or_default()
            .to_ascii_lowercase();
        assert!(
            allowed.contains("authorization") && allowed.contains("content-type"),
            "{path}: {allowed}"
        );
        let max_age: u32 = header(headers, "access-control-max-age")
            .and_then(|v| v.parse().ok())
            .expect("a max-age");
        assert!(max_age > 0);
        assert!(varies_on_origin(headers), "{path}: {headers:?}");
        assert_eq!(header(headers, "access-control-allow-credentials"), None);
    }
}

#[tokio::test]
async fn an_unknown_origin_gets_no_cors_headers_and_the_request_still_runs() {
    // Arrange
    let app = setup().await;

    // Act
    let resp = post_token_from(&app, "https://evil.example").await;
    let pre = preflight(&app, "/oauth/token", "https://evil.example", "POST").await;
    let null = post_token_from(&app, "null").await;

    // Assert
    assert_eq!(resp.0.status(), 401, "answered as without CORS");
    assert_eq!(
        header(resp.0.headers(), "access-control-allow-origin"),
        None
    );
    assert!(varies_on_origin(resp.0.headers()));
    assert_eq!(header(pre.0.headers(), "access-control-allow-origin"), None);
    assert_ne!(pre.0.status(), 204, "no preflight approval");
    assert_eq!(
        header(null.0.headers(), "access-control-allow-origin"),
        None
    );
}

#[tokio::test]
async fn a_confidential_clients_origin_is_not_allowed() {
    // Arrange
    let app = setup().await;

    // Act
    let resp = post_token_from(&app, SERVER_APP).await;
    let pre = preflight(&app, "/oauth/userinfo", SERVER_APP, "GET").await;

    // Assert
    assert_eq!(
        header(resp.0.headers(), "access-control-allow-origin"),
        None
    );
    assert_eq!(header(pre.0.headers(), "access-control-allow-origin"), None);
}

#[tokio::test]
async fn origins_match_exactly_scheme_host_and_port() {
    // Arrange
    let app = setup().await;

    for origin in [
        "http://spa.example.com",
        "https://spa.example.com:8443",
        "https://sub.spa.example.com",
        "https://spa.example.com.evil.example",
    ] {
        // Act
        let resp = post_token_from(&app, origin).await;

        // Assert
        assert_eq!(
            header(resp.0.headers(), "access-control-allow-origin"),
            None,
            "{origin}"
        );
    }
}

#[tokio::test]
async fn userinfo_answers_carry_cors_headers_and_expose_the_challenge() {
    // Arrange
    let app = setup().await;

    // Act
    let resp = app
        .client
        .get("/oauth/userinfo")
        .header("origin", SPA)
        .header("authorization", "Bearer not-a-token")
        .send()
        .await;

    // Assert
    assert_eq!(resp.0.status(), 401);
    let headers = resp.0.headers();
    assert_eq!(header(headers, "access-control-allow-origin"), Some(SPA));
    let exposed = header(headers, "access-control-expose-headers").unwrap_or_default();
    assert!(
        exposed.eq_ignore_ascii_case("www-authenticate"),
        "{exposed}"
    );
}

#[tokio::test]
async fn the_public_documents_are_readable_from_any_origin() {
    // Arrange
    let app = setup().await;

    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
        "/oauth/jwks",
    ] {
        // Act
        let resp = app
            .client
            .get(path)
            .header("origin", "https://anyone.example")
            .send()
            .await;
        let pre = preflight(&app, path, "https://anyone.example", "GET").await;

        // Assert
        assert_eq!(resp.0.status(), 200, "{path}");
        assert_eq!(
            header(resp.0.headers(), "access-control-allow-origin"),
            Some("*")
        );
        assert_eq!(pre.0.status(), 204, "{path}");
        assert_eq!(
            header(pre.0.headers(), "access-control-allow-origin"),
            Some("*")
        );
    }
}

#[tokio::test]
async fn requests_without_an_origin_get_no_cors_headers() {
    // Arrange
    let app = setup().await;

    // Act
    let token = app
        .client
        .post("/oauth/token")
        .content_type("application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await;
    let jwks = app.client.get("/oauth/jwks").send().await;

    // Assert
    assert_eq!(
        header(token.0.headers(), "access-control-allow-origin"),
        None
    );
    assert!(
        varies_on_origin(token.0.headers()),
        "caches keep the two apart"
    );
    assert_eq!(
        header(jwks.0.headers(), "access-control-allow-origin"),
        None
    );
}
