//! RFC 9068 access tokens: their shape, and the blog API accepting them and
//! refusing every kind of forgery.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use poem::test::TestResponse;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::oauth::ClientSpec;
use crate::helpers::{TestApp, TestUser, assert_problem, www_authenticate};

/// Decodes one base64url JSON part of a JWT.
pub fn decode_part(part: &str) -> Value {
    let bytes = URL_SAFE_NO_PAD.decode(part).expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// A JWT's header and claims, unverified.
pub fn header_and_claims(token: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "three parts: {token}");
    (decode_part(parts[0]), decode_part(parts[1]))
}

/// A fresh access token for `user` through the whole code flow, from a
/// newly registered client.
pub async fn access_token(app: &TestApp, user: &TestUser, scope: &str) -> String {
    let client = app.oauth_client(ClientSpec::default()).await;
    let tokens = app.tokens_for(user, &client, scope).await;
    tokens["access_token"].as_str().unwrap().to_owned()
}

/// The private half of a stored signing key (allowed in tests only).
pub struct ServerKey {
    pub kid: String,
    pub encoding: EncodingKey,
}

/// An ES256 key, as stored in clear.
pub async fn signing_key(app: &TestApp, kid: &str) -> ServerKey {
    let row = entity::signing_key::Entity::find_by_id(kid.to_owned())
        .one(&app.state.db)
        .await
        .unwrap()
        .expect("a stored key");
    assert_eq!(row.algorithm, "ES256", "{row:?}");
    let der = URL_SAFE_NO_PAD.decode(&row.private_key).unwrap();
    ServerKey {
        kid: row.kid,
        encoding: EncodingKey::from_ec_der(&der),
    }
}

/// The current ES256 key, the one that signs access tokens.
pub async fn current_signing_key(app: &TestApp) -> ServerKey {
    let row = entity::signing_key::Entity::find()
        .filter(entity::signing_key::Column::RetiredAt.is_null())
        .filter(entity::signing_key::Column::Algorithm.eq("ES256"))
        .one(&app.state.db)
        .await
        .unwrap()
        .expect("a current key");
    signing_key(app, &row.kid).await
}

/// Signs `claims` with ES256 under `kid`, with `typ` in the header.
pub fn sign(key: &EncodingKey, kid: &str, typ: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.typ = typ.map(str::to_owned);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

/// `claims` renewed to be valid from now on the app's clock.
pub fn fresh_claims(app: &TestApp, claims: &Value) -> Value {
    let now = app.clock().now().timestamp();
    let mut claims = claims.clone();
    claims["iat"] = json!(now);
    claims["nbf"] = json!(now);
    claims["exp"] = json!(now + 900);
    claims["jti"] = json!(uuid::Uuid::new_v4().to_string());
    claims
}

pub async fn get_posts(app: &TestApp, token: &str) -> TestResponse {
    app.client
        .get("/api/v1/posts")
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
}

async fn create_post(app: &TestApp, token: &str) -> TestResponse {
    app.client
        .post("/api/v1/posts")
        .header("authorization", format!("Bearer {token}"))
        .body_json(&json!({"title": "Hello", "body": "From a token", "published": true}))
        .send()
        .await
}

/// The API answers 401 with an RFC 6750 `invalid_token` challenge.
pub async fn assert_refused(app: &TestApp, token: &str) {
    let resp = get_posts(app, token).await;
    let headers = assert_problem(resp, 401, "access token").await;
    let challenge = www_authenticate(&headers);
    assert!(
        challenge.starts_with(r#"Bearer error="invalid_token""#),
        "{challenge}"
    );
}

#[tokio::test]
async fn an_access_token_is_an_at_jwt_signed_with_es256_under_a_published_kid() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let alice = app.user("alice").await;
    let token = access_token(&app, &alice, "blog:read").await;

    // Assert
    let (header, _) = header_and_claims(&token);
    assert_eq!(header["typ"], "at+jwt", "{header}");
    assert_eq!(header["alg"], "ES256", "{header}");
    let kid = header["kid"].as_str().expect("a kid");
    let jwks = crate::helpers::json(app.client.get("/oauth/jwks").send().await).await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    assert!(kids.contains(&kid), "{kid} in {kids:?}");
}

#[tokio::test]
async fn an_access_token_carries_the_rfc_9068_claims() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let alice_id = tollgate::store::users::find_by_username(&app.state.db, "alice")
        .await
        .unwrap()
        .unwrap()
        .id;

    // Act
    let first = app
        .tokens_for(&alice, &client, "blog:read blog:write")
        .await;
    let second = app.tokens_for(&alice, &client, "blog:read").await;

    // Assert
    assert_eq!(first["token_type"], "Bearer");
    assert_eq!(first["expires_in"], 900);
    let (_, claims) = header_and_claims(first["access_token"].as_str().unwrap());
    assert_eq!(claims["iss"], "http://127.0.0.1");
    assert_eq!(claims["sub"], alice_id.to_string());
    assert!(
        claims["aud"].as_str().is_some_and(|a| !a.is_empty()),
        "{claims}"
    );
    assert_eq!(claims["client_id"], client.client_id.as_str());
    let exp = claims["exp"].as_i64().expect("exp");
    let iat = claims["iat"].as_i64().expect("iat");
    assert_eq!(exp - iat, 900);
    assert!((iat - app.clock().now().timestamp()).abs() < 60, "{claims}");
    let mut scopes: Vec<&str> = claims["scope"].as_str().unwrap().split(' ').collect();
    scopes.sort_unstable();
    assert_eq!(scopes, ["blog:read", "blog:write"]);
    let (_, other) = header_and_claims(second["access_token"].as_str().unwrap());
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    assert_ne!(claims["jti"], other["jti"], "each token has its own jti");
    assert_eq!(other["scope"], "blog:read");
}

#[tokio::test]
async fn the_blog_api_accepts_the_access_token_and_the_author_is_the_username() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let token = access_token(&app, &alice, "blog:read blog:write").await;

    // Act
    let resp = create_post(&app, &token).await;

    // Assert
    resp.assert_status(poem::http::StatusCode::CREATED);
    let post = crate::helpers::json(resp).await;
    assert_eq!(post["author"], "alice");
    let listed = get_posts(&app, &token).await;
    listed.assert_status_is_ok();
    let page = crate::helpers::json(listed).await;
    assert_eq!(page["items"][0]["id"], post["id"]);
}

#[tokio::test]
async fn an_expired_access_token_is_refused() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let token = access_token(&app, &alice, "blog:read").await;
    get_posts(&app, &token).await.assert_status_is_ok();

    // Act
    app.clock().advance(Duration::from_secs(16 * 60));

    // Assert
    let resp = get_posts(&app, &token).await;
    let headers = assert_problem(resp, 401, "expired").await;
    assert!(
        www_authenticate(&headers).starts_with(r#"Bearer error="invalid_token""#),
        "{headers:?}"
    );
}

#[tokio::test]
async fn a_token_with_a_tampered_payload_is_refused() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let token = access_token(&app, &alice, "blog:read").await;
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims = decode_part(parts[1]);
    claims["scope"] = json!("blog:read blog:write blog:admin");
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());

    // Act
    let tampered = format!("{}.{payload}.{}", parts[0], parts[2]);

    // Assert
    assert_refused(&app, &tampered).await;
}

#[tokio::test]
async fn a_token_we_sign_with_the_servers_own_key_is_accepted() {
    // Arrange: the control for the forgeries below, which change one thing.
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let token = access_token(&app, &alice, "blog:read").await;
    let (_, claims) = header_and_claims(&token);
    let key = current_signing_key(&app).await;

    // Act
    let ours = sign(
        &key.encoding,
        &key.kid,
        Some("at+jwt"),
        &fresh_claims(&app, &claims),
    );

    // Assert
    get_posts(&app, &ours).await.assert_status_is_ok();
}

#[tokio::test]
async fn a_token_with_alg_none_is_refused() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let token = access_token(&app, &alice, "blog:read").await;
    let (header, claims) = header_and_claims(&token);
    let none = json!({"alg": "none", "typ": "at+jwt", "kid": header["kid"]});
    let encode = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());

    // Act
    let unsigned = format!("{}.{}.", encode(&none), encode(&claims));

    // Assert
    assert_refused(&app, &unsigned).await;
    assert_refused(&app, unsigned.trim_end_matches('.')).await;
}

#[tokio::test]
async fn a_token_signed_with_hs256_using_the_public_key_or_any_secret_is_refused() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let token = access_token(&app, &alice, "blog:read").await;
    let (header, claims) = header_and_claims(&token);
    let kid = header["kid"].as_str().unwrap().to_owned();
    let stored = entity::signing_key::Entity::find_by_id(kid.clone())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let point = URL_SAFE_NO_PAD.decode(&stored.public_key).unwrap();
    let jwks = crate::helpers::json(app.client.get("/oauth/jwks").send().await).await;
    let secrets: Vec<Vec<u8>> = vec![
        point.clone(),
        point[1..].to_vec(),
        stored.public_key.clone().into_bytes(),
        jwks["keys"][0].to_string().into_bytes(),
        b"secret".to_vec(),
    ];

    for secret in secrets {
        // Act
        let mut hs = Header::new(Algorithm::HS256);
        hs.typ = Some("at+jwt".to_owned());
        hs.kid = Some(kid.clone());
        let forged = jsonwebtoken::encode(
            &hs,
            &fresh_claims(&app, &claims),
            &EncodingKey::from_secret(&secret),
        )
        .unwrap();

        // Assert
        assert_refused(&app, &forged).await;
    }
}

#[tokio::test]
async fn a_token_without_the_at_jwt_type_is_refused() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let token = access_token(&app, &alice, "blog:read").await;
    let (_, claims) = header_and_claims(&token);
    let key = current_signing_key(&app).await;

    for typ in [Some("JWT"), Some("id+jwt"), None] {
        // Act: an ID token or any other JWT of ours must not pass.
        let forged = sign(&key.encoding, &key.kid, typ, &fresh_claims(&app, &claims));

        // Assert
        assert_refused(&app, &forged).await;
    }
}

#[tokio::test]
async fn a_token_with_an_unknown_kid_is_refused() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let token = access_token(&app, &alice, "blog:read").await;
    let (_, claims) = header_and_claims(&token);
    let key = current_signing_key(&app).await;

    // Act
    let forged = sign(
        &key.encoding,
        "no-such-key",
        Some("at+jwt"),
        &fresh_claims(&app, &claims),
    );

    // Assert
    assert_refused(&app, &forged).await;
}

#[tokio::test]
async fn a_token_from_another_issuer_is_refused() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let token = access_token(&app, &alice, "blog:read").await;
    let (_, claims) = header_and_claims(&token);
    let key = current_signing_key(&app).await;
    let mut claims = fresh_claims(&app, &claims);
    claims["iss"] = json!("https://evil.example");

    // Act
    let forged = sign(&key.encoding, &key.kid, Some("at+jwt"), &claims);

    // Assert
    assert_refused(&app, &forged).await;
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let token = access_token(&app, &alice, "blog:read").await;
    let (_, claims) = header_and_claims(&token);
    let key = current_signing_key(&app).await;

    let real = claims["aud"].as_str().unwrap().to_owned();

    for aud in [
        json!("https://other-api.example"),
        json!(format!("{real}/other")),
    ] {
        let mut claims = fresh_claims(&app, &claims);
        claims["aud"] = aud;

        // Act
        let forged = sign(&key.encoding, &key.kid, Some("at+jwt"), &claims);

        // Assert
        assert_refused(&app, &forged).await;
    }
}

#[tokio::test]
async fn a_token_with_only_blog_read_may_read_but_not_write() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let token = access_token(&app, &alice, "blog:read").await;

    // Act
    let read = get_posts(&app, &token).await;
    let write = create_post(&app, &token).await;

    // Assert
    read.assert_status_is_ok();
    let headers = assert_problem(write, 403, "blog:write").await;
    let challenge = www_authenticate(&headers);
    assert!(
        challenge.starts_with(r#"Bearer error="insufficient_scope""#),
        "{challenge}"
    );
}
