//! ID tokens checked by the `openidconnect` crate's verifier, as a relying
//! party nobody on the team wrote checks them (OIDC Core §3.1.3.7): the
//! signature with the published key, `iss`, `aud`, `exp`, the nonce, and
//! `at_hash` against the access token; and the whole way from the
//! authorization request's nonce to the ID token, through the browser.

use chrono::TimeDelta;
use openidconnect::core::{
    CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{AccessToken, AccessTokenHash, ClientId, IssuerUrl, Nonce};

use entity::browser_session;
use sea_orm::EntityTrait;

use crate::helpers::TestApp;
use crate::helpers::browser::Browser;
use crate::helpers::oauth::{CHALLENGE, ClientSpec, REDIRECT_URI, TestClientApp};
use crate::helpers::oidc::StoredCode;

/// Redeems a code with `nonce` and checks the ID token with the crate's
/// verifier, allowing only `alg`.
async fn verify_with_openidconnect(
    app: &TestApp,
    client: &TestClientApp,
    alg: CoreJwsSigningAlgorithm,
) {
    // Arrange
    let alice = app.user("alice").await;
    let nonce = Nonce::new_random();
    let code = app
        .stored_code(
            &alice,
            client,
            StoredCode {
                scopes: "openid profile",
                nonce: Some(nonce.secret()),
                auth_time: app.clock().now() - TimeDelta::seconds(30),
                sid: Some("a-session"),
            },
        )
        .await;
    let body = app.redeem_ok(client, &code).await;
    let jwks: CoreJsonWebKeySet =
        serde_json::from_value(app.jwks().await).expect("the crate reads the JWKS");
    let verifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(client.client_id.clone()),
        IssuerUrl::new(app.base_url()).expect("issuer URL"),
        jwks,
    )
    .set_allowed_algs([alg.clone()]);

    // Act
    let id_token: CoreIdToken = body["id_token"]
        .as_str()
        .expect("an id_token")
        .parse()
        .expect("the crate parses the ID token");
    let claims = id_token
        .claims(&verifier, &nonce)
        .expect("the crate verifies the ID token");

    // Assert
    assert_eq!(id_token.signing_alg().expect("signed"), &alg);
    assert_eq!(
        claims.preferred_username().map(|u| u.as_str()),
        Some("alice")
    );
    assert!(claims.auth_time().is_some());
    let access = AccessToken::new(body["access_token"].as_str().expect("access").to_owned());
    let key = id_token.signing_key(&verifier).expect("its key");
    let expected = AccessTokenHash::from_token(&access, &alg, key).expect("hashable");
    assert_eq!(claims.access_token_hash(), Some(&expected));
    // A wrong nonce is caught.
    assert!(
        id_token
            .claims(&verifier, &Nonce::new("not-the-nonce".to_owned()))
            .is_err()
    );
}

#[tokio::test]
async fn the_openidconnect_crate_verifies_an_rs256_id_token() {
    let app = TestApp::spawn().await;
    let client = app
        .oauth_client(ClientSpec::default().scopes("openid profile"))
        .await;
    verify_with_openidconnect(&app, &client, CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256).await;
}

#[tokio::test]
async fn the_openidconnect_crate_verifies_an_es256_id_token() {
    let app = TestApp::spawn().await;
    let client = app
        .oauth_client(
            ClientSpec::public()
                .scopes("openid profile")
                .id_token_alg("ES256"),
        )
        .await;
    verify_with_openidconnect(&app, &client, CoreJwsSigningAlgorithm::EcdsaP256Sha256).await;
}

#[tokio::test]
async fn the_authorization_requests_nonce_and_the_sessions_sign_in_reach_the_id_token() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app
        .oauth_client(ClientSpec::default().scopes("openid profile"))
        .await;
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.client_id)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("scope", "openid profile")
        .append_pair("state", "xyz")
        .append_pair("nonce", "n-0S6_WzA2Mj")
        .append_pair("code_challenge", CHALLENGE)
        .append_pair("code_challenge_method", "S256")
        .finish();
    let mut browser = Browser::new();
    let mut page = browser
        .get(&app, &format!("/oauth/authorize?{query}"))
        .await;
    page = browser.log_in(&app, &page, &alice).await;
    if page.is_consent_form() {
        page = browser.decide(&app, &page, "allow").await;
    }
    let code = page.redirect_params().get("code").expect("a code").clone();

    // Act
    let body = app.redeem_ok(&client, &code).await;

    // Assert
    let (_, claims) = app
        .verify_id_token(
            body["id_token"].as_str().expect("an id_token"),
            &client.client_id,
        )
        .await;
    let sessions = browser_session::Entity::find()
        .all(&app.state.db)
        .await
        .expect("query");
    let [session] = sessions.as_slice() else {
        panic!("one browser session: {sessions:?}")
    };
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["sid"], session.sid.as_str());
    assert_eq!(
        claims["auth_time"].as_i64(),
        Some(session.auth_time.timestamp())
    );
    assert_eq!(claims["preferred_username"], "alice");
}
