//! OpenID Provider metadata (OIDC Discovery §3): the RFC 8414 document's
//! members plus the OpenID ones; and the `openidconnect` crate, which
//! nobody on the team wrote, reading it.

use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{AdditionalProviderMetadata, IssuerUrl, ProviderMetadata};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::helpers::{TestApp, json};

const OPENID_MEMBERS: [&str; 14] = [
    "userinfo_endpoint",
    "end_session_endpoint",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
    "claims_supported",
    "prompt_values_supported",
    "backchannel_logout_supported",
    "backchannel_logout_session_supported",
    "claims_parameter_supported",
    "request_parameter_supported",
    "request_uri_parameter_supported",
    // In both documents:
    "response_modes_supported",
    "issuer",
    "jwks_uri",
];

async fn get(app: &TestApp, path: &str) -> Value {
    let resp = app.client.get(path).send().await;
    resp.assert_status_is_ok();
    json(resp).await
}

#[tokio::test]
async fn the_openid_configuration_has_every_openid_member() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let m = get(&app, "/.well-known/openid-configuration").await;

    // Assert
    for member in OPENID_MEMBERS {
        assert!(m.get(member).is_some(), "{member} in {m}");
    }
    assert_eq!(m["userinfo_endpoint"], "http://127.0.0.1/oauth/userinfo");
    assert_eq!(m["end_session_endpoint"], "http://127.0.0.1/oauth/logout");
    assert_eq!(m["subject_types_supported"], json!(["public"]));
    assert_eq!(
        m["id_token_signing_alg_values_supported"],
        json!(["RS256", "ES256"])
    );
    let claims: Vec<&str> = m["claims_supported"]
        .as_array()
        .expect("claims")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for claim in [
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "sid",
        "at_hash",
        "azp",
        "preferred_username",
        "name",
        "updated_at",
        "email",
        "email_verified",
    ] {
        assert!(claims.contains(&claim), "{claim} in {claims:?}");
    }
    assert_eq!(m["response_modes_supported"], json!(["query", "form_post"]));
    assert_eq!(
        m["prompt_values_supported"],
        json!(["none", "login", "consent"])
    );
    assert_eq!(m["backchannel_logout_supported"], true);
    assert_eq!(m["backchannel_logout_session_supported"], true);
    // Discovery §3 defaults request_uri_parameter_supported to true.
    for unsupported in [
        "claims_parameter_supported",
        "request_parameter_supported",
        "request_uri_parameter_supported",
    ] {
        assert_eq!(m[unsupported], false, "{unsupported}");
    }
    let scopes = m["scopes_supported"].as_array().expect("scopes");
    for scope in ["openid", "profile", "email", "offline_access"] {
        assert!(scopes.contains(&json!(scope)), "{scope} in {scopes:?}");
    }
}

#[tokio::test]
async fn the_rfc_8414_document_keeps_only_its_own_members() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let oauth = get(&app, "/.well-known/oauth-authorization-server").await;
    let openid = get(&app, "/.well-known/openid-configuration").await;

    // Assert
    for member in &OPENID_MEMBERS[..11] {
        assert!(
            oauth.get(member).is_none(),
            "{member} in the RFC 8414 document"
        );
    }
    let oauth = oauth.as_object().expect("an object");
    let openid = openid.as_object().expect("an object");
    assert_eq!(
        openid.len(),
        oauth.len() + 11,
        "only the OpenID members added"
    );
    for (member, value) in oauth {
        assert_eq!(&openid[member], value, "{member} unchanged");
    }
}

/// The logout members, which `CoreProviderMetadata` leaves out.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct LogoutMetadata {
    end_session_endpoint: String,
    backchannel_logout_supported: bool,
}

impl AdditionalProviderMetadata for LogoutMetadata {}

type Metadata = ProviderMetadata<
    LogoutMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

#[tokio::test]
async fn the_openidconnect_crate_discovers_the_provider_and_its_keys() {
    // Arrange
    let app = TestApp::serve().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest client");
    let issuer = IssuerUrl::new(app.base_url()).expect("issuer URL");

    // Act: the metadata, its issuer checked against the URL asked, and
    // the JWKS it names.
    let metadata = Metadata::discover_async(issuer, &http)
        .await
        .expect("discovery succeeds");

    // Assert
    assert_eq!(metadata.issuer().as_str(), app.base_url());
    let userinfo = metadata.userinfo_endpoint().expect("a userinfo endpoint");
    assert_eq!(
        userinfo.as_str(),
        format!("{}/oauth/userinfo", app.base_url())
    );
    assert!(
        metadata
            .id_token_signing_alg_values_supported()
            .contains(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256)
    );
    assert!(
        !metadata.jwks().keys().is_empty(),
        "the JWKS was fetched and parsed"
    );
    let logout = metadata.additional_metadata();
    assert_eq!(
        logout.end_session_endpoint,
        format!("{}/oauth/logout", app.base_url())
    );
    assert!(logout.backchannel_logout_supported);
}
