//! RFC 8414 metadata at both well-known paths, and the JWKS.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::helpers::oauth::ClientSpec;
use crate::helpers::{TestApp, json};

const PATHS: [&str; 2] = [
    "/.well-known/oauth-authorization-server",
    "/.well-known/openid-configuration",
];

async fn get_json(app: &TestApp, path: &str) -> Value {
    let resp = app.client.get(path).send().await;
    resp.assert_status_is_ok();
    let content_type = resp.0.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{path}: {content_type}"
    );
    json(resp).await
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap_or_else(|| panic!("an array: {v}"))
        .iter()
        .map(|s| s.as_str().expect("strings"))
        .collect()
}

#[tokio::test]
async fn both_well_known_paths_serve_the_rfc_8414_members_with_every_contract_field() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let oauth = get_json(&app, PATHS[0]).await;
    let openid = get_json(&app, PATHS[1]).await;

    // Assert: the OpenID document is the same plus its own members
    // (`oidc_discovery`).
    for (member, value) in oauth.as_object().expect("an object") {
        assert_eq!(&openid[member], value, "{member}");
    }
    let m = &oauth;
    assert_eq!(m["issuer"], "http://127.0.0.1");
    for field in [
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "revocation_endpoint",
        "introspection_endpoint",
    ] {
        assert!(m[field].is_string(), "{field}: {m}");
    }
    let scopes = strings(&m["scopes_supported"]);
    for scope in ["blog:read", "blog:write", "blog:admin"] {
        assert!(scopes.contains(&scope), "{scopes:?}");
    }
    assert_eq!(strings(&m["response_types_supported"]), ["code"]);
    let grants = strings(&m["grant_types_supported"]);
    for grant in ["authorization_code", "refresh_token", "client_credentials"] {
        assert!(grants.contains(&grant), "{grants:?}");
    }
    assert!(!grants.contains(&"implicit"), "{grants:?}");
    assert_eq!(strings(&m["code_challenge_methods_supported"]), ["S256"]);
    let auth_methods = strings(&m["token_endpoint_auth_methods_supported"]);
    for method in ["client_secret_basic", "client_secret_post"] {
        assert!(auth_methods.contains(&method), "{auth_methods:?}");
    }
    assert_eq!(m["authorization_response_iss_parameter_supported"], true);
}

#[tokio::test]
async fn every_advertised_endpoint_is_under_the_issuer_and_answers() {
    // Arrange
    let app =
        TestApp::spawn_with(|s| s.issuer = url::Url::parse("https://auth.example").unwrap()).await;

    // Act
    let m = get_json(&app, PATHS[0]).await;

    // Assert
    assert_eq!(m["issuer"], "https://auth.example");
    let mut paths = Vec::new();
    for field in [
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "revocation_endpoint",
        "introspection_endpoint",
    ] {
        let url = m[field].as_str().unwrap();
        let path = url
            .strip_prefix("https://auth.example/")
            .unwrap_or_else(|| panic!("{field} {url} is under the issuer"));
        paths.push(format!("/{path}"));
    }
    // Each one is routed: none answers 404 or 405 to the method it is for.
    let authorize = app.client.get(&paths[0]).send().await;
    assert_eq!(authorize.0.status(), 400, "an error page, not a 404");
    for path in [&paths[1], &paths[3], &paths[4]] {
        let resp = app
            .client
            .post(path)
            .content_type("application/x-www-form-urlencoded")
            .body("")
            .send()
            .await;
        assert!(
            ![404, 405].contains(&resp.0.status().as_u16()),
            "{path}: {}",
            resp.0.status()
        );
    }
    let jwks = get_json(&app, &paths[2]).await;
    assert!(jwks["keys"].is_array(), "{jwks}");
}

#[tokio::test]
async fn the_discovered_issuer_is_the_iss_of_redirects_and_tokens() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let issuer = get_json(&app, PATHS[0]).await["issuer"].clone();

    // Act
    let tokens = app.tokens_for(&alice, &client, "blog:read").await;

    // Assert
    let access = tokens["access_token"].as_str().unwrap();
    let payload = access.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(claims["iss"], issuer);
}

#[tokio::test]
async fn the_jwks_lists_p256_signing_keys_without_private_parts() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let jwks = get_json(&app, "/oauth/jwks").await;

    // Assert (the RS256 keys beside them: `signing_key_kinds`)
    let keys: Vec<&Value> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter(|k| k["kty"] == "EC")
        .collect();
    assert!(!keys.is_empty(), "{jwks}");
    for key in keys {
        assert_eq!(key["crv"], "P-256", "{key}");
        assert_eq!(key["alg"], "ES256", "{key}");
        assert_eq!(key["use"], "sig", "{key}");
        assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()), "{key}");
        for coordinate in ["x", "y"] {
            let bytes = URL_SAFE_NO_PAD
                .decode(key[coordinate].as_str().expect("a coordinate"))
                .expect("base64url");
            assert_eq!(bytes.len(), 32, "{coordinate} of {key}");
        }
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(key.get(private).is_none(), "{private} in {key}");
        }
    }
}

#[tokio::test]
async fn an_access_token_verifies_with_the_published_key_of_its_kid() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let tokens = app.tokens_for(&alice, &client, "blog:read").await;
    let access = tokens["access_token"].as_str().unwrap();
    let jwks = get_json(&app, "/oauth/jwks").await;

    // Act: verify as a third-party resource server would, from the JWKS.
    let header = jsonwebtoken::decode_header(access).unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"].as_str() == header.kid.as_deref())
        .expect("the token's kid is published");
    let key = jsonwebtoken::DecodingKey::from_ec_components(
        jwk["x"].as_str().unwrap(),
        jwk["y"].as_str().unwrap(),
    )
    .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_issuer(&["http://127.0.0.1"]);
    validation.validate_aud = false;
    let verified = jsonwebtoken::decode::<Value>(access, &key, &validation);

    // Assert
    let claims = verified
        .expect("the published key verifies the token")
        .claims;
    assert_eq!(claims["client_id"], client.client_id.as_str());
}
