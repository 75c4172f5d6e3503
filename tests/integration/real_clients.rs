//! The whole flow driven by a client nobody on the team wrote: the `oauth2`
//! crate, over a real port, configured only from the discovery document.
//! A reqwest client with a cookie store plays the browser.

use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    IntrospectionUrl, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError,
    RevocationUrl, Scope, StandardRevocableToken, TokenIntrospectionResponse, TokenResponse,
    TokenUrl,
};
use reqwest::redirect::Policy;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::helpers::browser::Page;
use crate::helpers::oauth::{ClientSpec, REDIRECT_URI, TestClientApp};

/// A `BasicClient` with authorize, token, revocation and introspection URLs.
type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointSet, EndpointSet, EndpointSet>;

/// The parts of the RFC 8414 document a client is built from.
struct Metadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    revocation_endpoint: String,
    introspection_endpoint: String,
}

/// Reads `/.well-known/oauth-authorization-server` as a client would.
async fn discover(app: &TestApp) -> Metadata {
    let url = format!("{}/.well-known/oauth-authorization-server", app.base_url());
    let resp = reqwest::get(&url).await.expect("discovery request");
    assert_eq!(resp.status(), 200);
    let doc: Value = resp.json().await.expect("discovery JSON");
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    let field = |name: &str| {
        doc[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} in the discovery document: {doc}"))
            .to_owned()
    };
    Metadata {
        issuer: field("issuer"),
        authorization_endpoint: field("authorization_endpoint"),
        token_endpoint: field("token_endpoint"),
        revocation_endpoint: field("revocation_endpoint"),
        introspection_endpoint: field("introspection_endpoint"),
    }
}

/// An `oauth2` client for `registered`, from discovery and nothing else.
fn oauth_client(meta: &Metadata, registered: &TestClientApp) -> Client {
    let client = BasicClient::new(ClientId::new(registered.client_id.clone()))
        .set_auth_uri(AuthUrl::new(meta.authorization_endpoint.clone()).expect("auth URL"))
        .set_token_uri(TokenUrl::new(meta.token_endpoint.clone()).expect("token URL"))
        .set_revocation_url(
            RevocationUrl::new(https_form(&meta.revocation_endpoint)).expect("revocation URL"),
        )
        .set_introspection_url(
            IntrospectionUrl::new(meta.introspection_endpoint.clone()).expect("introspection URL"),
        )
        .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.to_owned()).expect("redirect URL"));
    match &registered.secret {
        Some(secret) => client.set_client_secret(ClientSecret::new(secret.clone())),
        None => client,
    }
}

/// The HTTP client the `oauth2` crate sends its requests with. Its docs:
/// following redirects opens the client up to SSRF.
fn oauth_http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("reqwest client")
}

/// `revoke_token` takes only an https URL (RFC 7009 §2: "Clients MUST
/// verify that the URL is an HTTPS URL"), and the test server speaks plain
/// HTTP on loopback. So the client is given the https form of the
/// discovered URL, and [`revoke`] sends its request through a stand-in for
/// a TLS-terminating proxy, which forwards it to the discovered http URL.
fn https_form(discovered: &str) -> String {
    let url = url::Url::parse(discovered).expect("discovered URL");
    assert_eq!(
        url.host_str(),
        Some("127.0.0.1"),
        "only loopback goes unencrypted"
    );
    discovered.replacen("http://", "https://", 1)
}

/// Revokes `token` with the `oauth2` crate (see [`https_form`]).
async fn revoke(client: &Client, http: &reqwest::Client, token: StandardRevocableToken) {
    let tls_terminator = |mut request: oauth2::HttpRequest| {
        let http = http.clone();
        async move {
            let plain = request.uri().to_string().replacen("https://", "http://", 1);
            *request.uri_mut() = plain.parse().expect("URI");
            oauth2::AsyncHttpClient::call(&http, request).await
        }
    };
    client
        .revoke_token(token)
        .expect("an https revocation URL")
        .request_async(&tls_terminator)
        .await
        .expect("revocation");
}

/// A person's browser: keeps cookies, does not follow redirects (the last
/// one leads to the client, which is not running).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .expect("reqwest client")
}

async fn read_page(resp: reqwest::Response) -> Page {
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.text().await.expect("page body");
    Page {
        status,
        headers,
        body,
    }
}

/// Posts `page`'s form with its CSRF field and `fields`.
async fn submit(
    browser: &reqwest::Client,
    base: &str,
    page: &Page,
    fields: &[(&str, &str)],
) -> Page {
    let action = page.form_action().expect("form action");
    let url = url::Url::parse(base)
        .and_then(|b| b.join(&action))
        .expect("form action URL");
    let csrf = page.field("csrf_token").expect("hidden csrf_token field");
    let mut form = vec![("csrf_token", csrf.as_str())];
    form.extend_from_slice(fields);
    let resp = browser
        .post(url)
        .form(&form)
        .send()
        .await
        .expect("form post");
    read_page(resp).await
}

/// Starts an authorization request with PKCE S256 and a random state, logs
/// `alice` in, allows consent, and returns the code and the verifier.
async fn authorize(
    app: &TestApp,
    meta: &Metadata,
    client: &Client,
    password: &str,
) -> (AuthorizationCode, PkceCodeVerifier) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (authorize_url, csrf_state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("blog:read".to_owned()))
        .add_scope(Scope::new("blog:write".to_owned()))
        .set_pkce_challenge(challenge)
        .url();
    let base = app.base_url();
    let browser = browser();

    let login = read_page(
        browser
            .get(authorize_url)
            .send()
            .await
            .expect("authorize request"),
    )
    .await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert!(login.is_login_form(), "a login form: {}", login.body);

    let consent = submit(
        &browser,
        &base,
        &login,
        &[("username", "alice"), ("password", password)],
    )
    .await;
    assert_eq!(consent.status, 200, "{}", consent.body);
    assert!(
        consent.is_consent_form(),
        "a consent form: {}",
        consent.body
    );

    let back = submit(&browser, &base, &consent, &[("decision", "allow")]).await;
    assert_eq!(back.status, 303, "{}", back.body);
    let location = back.location().expect("Location");
    assert!(location.starts_with(REDIRECT_URI), "{location}");
    let params = back.redirect_params();
    assert_eq!(
        params.get("state").map(String::as_str),
        Some(csrf_state.secret().as_str()),
        "state comes back unchanged"
    );
    assert_eq!(
        params.get("iss").map(String::as_str),
        Some(meta.issuer.as_str()),
        "RFC 9207 iss"
    );
    let code = params.get("code").expect("a code in the redirect").clone();
    (AuthorizationCode::new(code), verifier)
}

/// The OAuth error code of a failed token request.
fn error_code<RE: std::error::Error + 'static>(
    err: &RequestTokenError<RE, oauth2::basic::BasicErrorResponse>,
) -> BasicErrorResponseType {
    match err {
        RequestTokenError::ServerResponse(resp) => resp.error().clone(),
        other => panic!("expected an OAuth error response, got {other:?}"),
    }
}

/// Creates and lists a post with `access_token`; returns the post.
async fn use_blog_api(app: &TestApp, access_token: &str) -> Value {
    let http = reqwest::Client::new();
    let posts = format!("{}/api/v1/posts", app.base_url());
    let created = http
        .post(&posts)
        .bearer_auth(access_token)
        .json(&json!({"title": "From a real client", "body": "hello", "published": true}))
        .send()
        .await
        .expect("create post");
    assert_eq!(created.status(), 201);
    let post: Value = created.json().await.expect("post JSON");
    assert_eq!(post["author"], "alice");
    let list = http
        .get(&posts)
        .bearer_auth(access_token)
        .send()
        .await
        .expect("list posts");
    assert_eq!(list.status(), 200);
    let list: Value = list.json().await.expect("list JSON");
    assert_eq!(list["items"][0]["id"], post["id"]);
    post
}

async fn api_status(app: &TestApp, access_token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{}/api/v1/posts", app.base_url()))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("list posts")
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_oauth2_crate_runs_the_code_flow_refresh_revocation_and_introspection() {
    // Arrange
    let app = TestApp::serve().await;
    let alice = app.user("alice").await;
    let registered = app.oauth_client(ClientSpec::default()).await;
    let meta = discover(&app).await;
    assert_eq!(meta.issuer, app.base_url());
    let client = oauth_client(&meta, &registered);
    let http = oauth_http();

    // Act: authorize in the browser, exchange the code.
    let (code, verifier) = authorize(&app, &meta, &client, &alice.password).await;
    let tokens = client
        .exchange_code(code)
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");

    // Assert: a bearer token that the blog API takes.
    assert_eq!(*tokens.token_type(), oauth2::basic::BasicTokenType::Bearer);
    assert!(tokens.expires_in().is_some());
    let scopes: Vec<String> = tokens
        .scopes()
        .expect("scope in the token response")
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(scopes, ["blog:read", "blog:write"]);
    use_blog_api(&app, tokens.access_token().secret()).await;
    let first_refresh = tokens.refresh_token().expect("a refresh token").clone();

    let info = client
        .introspect(tokens.access_token())
        .request_async(&http)
        .await
        .expect("introspection");
    assert!(info.active());
    assert_eq!(info.username(), Some("alice"));
    assert_eq!(
        info.client_id().map(|c| c.as_str()),
        Some(&*registered.client_id)
    );
    assert_eq!(info.iss(), Some(meta.issuer.as_str()));

    // Refresh rotates the refresh token.
    let refreshed = client
        .exchange_refresh_token(&first_refresh)
        .request_async(&http)
        .await
        .expect("refresh");
    let second_refresh = refreshed
        .refresh_token()
        .expect("a new refresh token")
        .clone();
    assert_ne!(second_refresh.secret(), first_refresh.secret());
    assert_eq!(
        api_status(&app, refreshed.access_token().secret()).await,
        200
    );

    // Revoking an access token ends it at once.
    let before = client
        .introspect(refreshed.access_token())
        .request_async(&http)
        .await
        .expect("introspection");
    assert!(before.active());
    revoke(
        &client,
        &http,
        StandardRevocableToken::AccessToken(refreshed.access_token().clone()),
    )
    .await;
    let after = client
        .introspect(refreshed.access_token())
        .request_async(&http)
        .await
        .expect("introspection");
    assert!(!after.active());
    assert_eq!(
        api_status(&app, refreshed.access_token().secret()).await,
        401
    );

    // Reusing the rotated-out refresh token fails and revokes the family.
    let reused = client
        .exchange_refresh_token(&first_refresh)
        .request_async(&http)
        .await
        .expect_err("a reused refresh token is refused");
    assert_eq!(error_code(&reused), BasicErrorResponseType::InvalidGrant);
    let family = client
        .exchange_refresh_token(&second_refresh)
        .request_async(&http)
        .await
        .expect_err("the family is revoked");
    assert_eq!(error_code(&family), BasicErrorResponseType::InvalidGrant);
    assert_eq!(api_status(&app, tokens.access_token().secret()).await, 401);
}

#[tokio::test]
async fn revoking_a_refresh_token_with_the_oauth2_crate_ends_its_grant() {
    // Arrange
    let app = TestApp::serve().await;
    let alice = app.user("alice").await;
    let registered = app.oauth_client(ClientSpec::default()).await;
    let meta = discover(&app).await;
    let client = oauth_client(&meta, &registered);
    let http = oauth_http();
    let (code, verifier) = authorize(&app, &meta, &client, &alice.password).await;
    let tokens = client
        .exchange_code(code)
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let refresh = tokens.refresh_token().expect("a refresh token").clone();
    let active = client
        .introspect(tokens.access_token())
        .set_token_type_hint("access_token")
        .request_async(&http)
        .await
        .expect("introspection");
    assert!(active.active());

    // Act
    revoke(
        &client,
        &http,
        StandardRevocableToken::RefreshToken(refresh.clone()),
    )
    .await;

    // Assert: the refresh token and the access token of its grant are dead.
    let refused = client
        .exchange_refresh_token(&refresh)
        .request_async(&http)
        .await
        .expect_err("a revoked refresh token is refused");
    assert_eq!(error_code(&refused), BasicErrorResponseType::InvalidGrant);
    let inactive = client
        .introspect(tokens.access_token())
        .request_async(&http)
        .await
        .expect("introspection");
    assert!(!inactive.active());
    assert_eq!(api_status(&app, tokens.access_token().secret()).await, 401);
}

#[tokio::test]
async fn a_public_client_exchanges_its_code_with_pkce_and_no_secret() {
    // Arrange
    let app = TestApp::serve().await;
    let alice = app.user("alice").await;
    let registered = app.oauth_client(ClientSpec::public()).await;
    assert!(registered.secret.is_none());
    let meta = discover(&app).await;
    let client = oauth_client(&meta, &registered);
    let http = oauth_http();
    let (code, verifier) = authorize(&app, &meta, &client, &alice.password).await;

    // Act
    let tokens = client
        .exchange_code(code.clone())
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange without a secret");

    // Assert
    use_blog_api(&app, tokens.access_token().secret()).await;
    let info = client
        .introspect(tokens.access_token())
        .request_async(&http)
        .await
        .expect("a public client introspects its own token");
    assert!(info.active());
    // The code is single-use: a replay fails and revokes what it issued.
    let replay = client
        .exchange_code(code)
        .set_pkce_verifier(PkceCodeVerifier::new("x".repeat(43)))
        .request_async(&http)
        .await
        .expect_err("a code works once");
    assert_eq!(error_code(&replay), BasicErrorResponseType::InvalidGrant);
    let revoked = client
        .introspect(tokens.access_token())
        .request_async(&http)
        .await
        .expect("introspection");
    assert!(!revoked.active());
}

#[tokio::test]
async fn the_oauth2_crate_gets_a_token_with_client_credentials() {
    // Arrange
    let app = TestApp::serve().await;
    let registered = app
        .oauth_client(ClientSpec::default().grants(&["client_credentials"]))
        .await;
    let meta = discover(&app).await;
    let client = oauth_client(&meta, &registered);
    let http = oauth_http();

    // Act
    let tokens = client
        .exchange_client_credentials()
        .add_scope(Scope::new("blog:read".to_owned()))
        .request_async(&http)
        .await
        .expect("client credentials");

    // Assert: a token for the client itself, without a refresh token.
    assert!(tokens.refresh_token().is_none());
    assert_eq!(api_status(&app, tokens.access_token().secret()).await, 200);
    let info = client
        .introspect(tokens.access_token())
        .request_async(&http)
        .await
        .expect("introspection");
    assert!(info.active());
    assert_eq!(info.sub(), Some(registered.client_id.as_str()));
    assert_eq!(
        info.scopes()
            .map(|s| s.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
        Some(vec!["blog:read".to_owned()])
    );

    // A wrong secret is `invalid_client`.
    let impostor = oauth_client(
        &meta,
        &TestClientApp {
            client_id: registered.client_id.clone(),
            secret: Some("not-the-secret".to_owned()),
        },
    );
    let refused = impostor
        .exchange_client_credentials()
        .request_async(&http)
        .await
        .expect_err("a wrong secret is refused");
    assert_eq!(error_code(&refused), BasicErrorResponseType::InvalidClient);
}
