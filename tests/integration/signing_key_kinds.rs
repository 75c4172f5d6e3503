//! Signing keys of two kinds: ES256 signs access tokens, RS256 is there for
//! ID tokens (OpenID Connect Discovery 1.0 makes it mandatory). Both are
//! published; only ES256 keys make access tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use poem::EndpointExt;
use poem::test::TestClient;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use tollgate::Settings;
use tollgate::state::AppState;

use crate::access_tokens::{
    access_token, assert_refused, current_signing_key, fresh_claims, get_posts, header_and_claims,
    sign,
};
use crate::helpers::{TestApp, json};

async fn jwks(app: &TestApp) -> Vec<Value> {
    let jwks = json(app.client.get("/oauth/jwks").send().await).await;
    jwks["keys"].as_array().expect("keys").clone()
}

/// Decodes a base64url JWK member.
fn member(jwk: &Value, name: &str) -> Vec<u8> {
    let text = jwk[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {jwk}"));
    URL_SAFE_NO_PAD.decode(text).expect("base64url")
}

#[tokio::test]
async fn the_jwks_publishes_an_es256_and_an_rs256_key_with_their_rfc_7518_members() {
    // Arrange
    let app = TestApp::spawn().await;
    let keys = app.state.keys.snapshot();
    let rs256 = keys.current_for(Algorithm::RS256).expect("an RS256 key");
    let es256 = keys.current_for(Algorithm::ES256).expect("an ES256 key");

    // Act
    let published = jwks(&app).await;

    // Assert: one of each kind, the current ones.
    assert_eq!(published.len(), 2, "{published:?}");
    assert_eq!(keys.current().kid, es256.kid, "current() is the ES256 key");
    let ec = published.iter().find(|k| k["kty"] == "EC").expect("EC");
    assert_eq!(ec["kid"], es256.kid.as_str());
    assert_eq!(
        (ec["crv"].as_str(), ec["alg"].as_str()),
        (Some("P-256"), Some("ES256"))
    );
    // RFC 7518 §6.3.1: n and e, unsigned big-endian without leading zeros.
    let rsa = published.iter().find(|k| k["kty"] == "RSA").expect("RSA");
    assert_eq!(rsa["kid"], rs256.kid.as_str());
    assert_eq!(rsa["alg"], "RS256", "{rsa}");
    assert_eq!(rsa["use"], "sig", "{rsa}");
    let n = member(rsa, "n");
    assert_eq!(n.len(), 256, "a 2048-bit modulus: {rsa}");
    assert!(n[0] >= 0x80, "no leading zero byte: {rsa}");
    assert_eq!(member(rsa, "e"), [1, 0, 1], "e = 65537: {rsa}");
    for private in ["d", "p", "q", "dp", "dq", "qi", "oth"] {
        assert!(rsa.get(private).is_none(), "{private} in {rsa}");
    }
    // The published n and e verify what the RS256 key signs, as a relying
    // party verifies an ID token.
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(rs256.kid.clone());
    let claims =
        serde_json::json!({"iss": "http://127.0.0.1", "sub": "s", "exp": 4_000_000_000u64});
    let jwt = jsonwebtoken::encode(&header, &claims, &rs256.encoding).expect("signs");
    let from_jwk =
        DecodingKey::from_rsa_components(rsa["n"].as_str().unwrap(), rsa["e"].as_str().unwrap())
            .expect("a key");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(&jwt, &from_jwk, &validation).expect("the JWK verifies it");
}

#[tokio::test]
async fn an_rs256_signed_token_with_access_token_claims_and_a_published_kid_is_refused() {
    // Arrange: a real access token's claims, freshly dated.
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let (_, claims) = header_and_claims(&access_token(&app, &alice, "blog:read").await);
    let claims = fresh_claims(&app, &claims);
    let rs256 = app
        .state
        .keys
        .snapshot()
        .current_for(Algorithm::RS256)
        .expect("an RS256 key")
        .clone();
    let published = jwks(&app).await;
    assert!(published.iter().any(|k| k["kid"] == rs256.kid.as_str()));

    // Act: signed by the server's own RS256 key, typed as an access token.
    let mut header = Header::new(Algorithm::RS256);
    header.typ = Some("at+jwt".to_owned());
    header.kid = Some(rs256.kid.clone());
    let forged = jsonwebtoken::encode(&header, &claims, &rs256.encoding).expect("signs");

    // Assert: refused, though its signature is good; the same claims under
    // the ES256 key pass (the control).
    assert_refused(&app, &forged).await;
    let es256 = current_signing_key(&app).await;
    let genuine = sign(&es256.encoding, &es256.kid, Some("at+jwt"), &claims);
    get_posts(&app, &genuine).await.assert_status_is_ok();
}

#[tokio::test]
async fn a_database_with_only_es256_keys_gains_an_rs256_key_on_start_and_old_tokens_stay_valid() {
    // Arrange: a database as an earlier version left it, ES256 keys only.
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let old_token = access_token(&app, &alice, "blog:read").await;
    let (old_header, _) = header_and_claims(&old_token);
    entity::signing_key::Entity::delete_many()
        .filter(entity::signing_key::Column::Algorithm.eq("RS256"))
        .exec(&app.state.db)
        .await
        .expect("delete");

    // Act: the server restarts.
    let db = tollgate::db::open(&app.database_url).await.expect("opens");
    let restarted = AppState::build(
        db,
        Settings::for_tests(&app.database_url),
        app.clock().clone(),
    )
    .await
    .expect("starts");

    // Assert: a new RS256 key is current and published; the ES256 key is
    // the same one, and the token it signed before still works.
    let keys = restarted.keys.snapshot();
    let rs256 = keys.current_for(Algorithm::RS256).expect("an RS256 key");
    assert_eq!(keys.current().kid, old_header["kid"].as_str().unwrap());
    let kids: Vec<&str> = keys.jwks()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids.len(), 2, "{kids:?}");
    assert!(kids.contains(&rs256.kid.as_str()), "{kids:?}");
    let client = TestClient::new(tollgate::startup::app(restarted.clone()).map_to_response());
    client
        .get("/api/v1/posts")
        .header("authorization", format!("Bearer {old_token}"))
        .send()
        .await
        .assert_status_is_ok();
}
