//! ID tokens checked by the `openidconnect` crate's verifier, as a relying
//! party nobody on the team wrote checks them (OIDC Core §3.1.3.7): the
//! signature with the published key, `iss`, `aud`, `exp`, the nonce, and
//! `at_hash` against the access token.

use chrono::TimeDelta;
use openidconnect::core::{
    CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{AccessToken, AccessTokenHash, ClientId, IssuerUrl, Nonce};

use crate::helpers::TestApp;
use crate::helpers::oauth::{ClientSpec, TestClientApp};
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
