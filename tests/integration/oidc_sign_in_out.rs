//! A relying party nobody on the team wrote: the `openidconnect` crate,
//! given only the issuer URL and its client credentials, over a real port.
//! It discovers the provider, runs the code flow with PKCE and a nonce,
//! verifies the ID token with its own checks (signature against the JWKS,
//! iss, aud, exp, nonce, at_hash), reads userinfo, refreshes, and signs the
//! person out through the end-session endpoint. A reqwest client with a
//! cookie store plays the person's browser.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdTokenClaims, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    LogoutRequest, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PostLogoutRedirectUrl,
    ProviderMetadataWithLogout, RedirectUrl, Scope, TokenResponse,
};
use reqwest::redirect::Policy;
use tollgate::manage::{self, ProfileUpdate};

use crate::helpers::TestApp;
use crate::helpers::browser::Page;
use crate::helpers::oauth::{ClientSpec, REDIRECT_URI};

const SIGNED_OUT: &str = "https://app.example.com/signed-out";

/// What the relying party's HTTP client must be (the crate's docs:
/// following redirects opens a client up to SSRF).
fn rp_http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("reqwest client")
}

/// The person's browser: keeps cookies, does not follow redirects (the
/// last one leads to the relying party, which is not running).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .expect("reqwest client")
}

async fn get(browser: &reqwest::Client, url: &str) -> Page {
    read_page(browser.get(url).send().await.expect("GET")).await
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
    read_page(
        browser
            .post(url)
            .form(&form)
            .send()
            .await
            .expect("form post"),
    )
    .await
}

/// The whole life of a sign-in, for a confidential or a public client.
async fn sign_in_read_claims_refresh_and_sign_out(app: &TestApp, public: bool) {
    // Arrange: a person with a profile, and a registered relying party.
    let alice = app.user("alice").await;
    manage::update_user_profile(
        &app.state.db,
        "alice",
        ProfileUpdate {
            name: Some("Alice Liddell".to_owned()),
            email: Some("alice@example.com".to_owned()),
            email_verified: Some(true),
        },
        app.clock().now(),
    )
    .await
    .expect("profile");
    let spec = if public {
        ClientSpec::public()
    } else {
        ClientSpec::default()
    };
    let registered = app
        .oauth_client(
            spec.scopes("openid profile email blog:read")
                .post_logout_redirect_uris(&[SIGNED_OUT]),
        )
        .await;
    let http = rp_http();
    let base = app.base_url();

    // Discovery from the issuer URL alone.
    let metadata =
        ProviderMetadataWithLogout::discover_async(IssuerUrl::new(base.clone()).unwrap(), &http)
            .await
            .expect("discovery");
    let end_session = metadata
        .additional_metadata()
        .end_session_endpoint
        .clone()
        .expect("end_session_endpoint in discovery");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(registered.client_id.clone()),
        registered.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.to_owned()).unwrap());

    // Act: the code flow with PKCE and a nonce, through the login and
    // consent pages.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (authorize_url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".to_owned()))
        .add_scope(Scope::new("email".to_owned()))
        .add_scope(Scope::new("blog:read".to_owned()))
        .set_pkce_challenge(challenge)
        .url();
    let browser = browser();
    let login = get(&browser, authorize_url.as_str()).await;
    assert!(login.is_login_form(), "{}", login.body);
    let consent = submit(
        &browser,
        &base,
        &login,
        &[("username", "alice"), ("password", &alice.password)],
    )
    .await;
    assert!(consent.is_consent_form(), "{}", consent.body);
    let back = submit(&browser, &base, &consent, &[("decision", "allow")]).await;
    assert_eq!(back.status, 303, "{}", back.body);
    let params = back.redirect_params();
    assert_eq!(params.get("state"), Some(state.secret()));
    assert_eq!(params.get("iss"), Some(&base));
    let code = AuthorizationCode::new(params["code"].clone());
    // (A replayed code is refused and revokes the grant: oidc_tokens.)

    let tokens = client
        .exchange_code(code)
        .expect("token endpoint in discovery")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");

    // Assert: the crate's own ID token checks pass, at_hash included.
    let id_token = tokens
        .id_token()
        .expect("an id_token beside the access token");
    let id_verifier = client.id_token_verifier();
    let claims: &CoreIdTokenClaims = id_token
        .claims(&id_verifier, &nonce)
        .expect("a valid ID token");
    let expected_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().expect("alg"),
        id_token.signing_key(&id_verifier).expect("key"),
    )
    .expect("hash");
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));
    assert_eq!(
        claims.preferred_username().map(|u| u.as_str()),
        Some("alice")
    );
    assert_eq!(
        claims.email().map(|e| e.as_str()),
        Some("alice@example.com")
    );
    assert_eq!(claims.email_verified(), Some(true));
    let name = claims.name().and_then(|n| n.get(None)).map(|n| n.as_str());
    assert_eq!(name, Some("Alice Liddell"));
    let auth_time = claims.auth_time().expect("auth_time");
    let subject = claims.subject().clone();

    // Userinfo: the same subject, the claims of the granted scopes.
    let info: CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), Some(subject.clone()))
        .expect("userinfo endpoint in discovery")
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.email().map(|e| e.as_str()), Some("alice@example.com"));
    assert_eq!(info.preferred_username().map(|u| u.as_str()), Some("alice"));

    // Refresh: a fresh ID token, same subject and auth_time, no nonce.
    let refresh_token = tokens.refresh_token().expect("a refresh token").clone();
    let refreshed = client
        .exchange_refresh_token(&refresh_token)
        .expect("token endpoint")
        .request_async(&http)
        .await
        .expect("refresh");
    let new_id_token = refreshed.id_token().expect("a new ID token on refresh");
    let new_claims = new_id_token
        .claims(&id_verifier, |n: Option<&Nonce>| match n {
            None => Ok(()),
            Some(_) => Err("a refreshed ID token carries no nonce".to_owned()),
        })
        .expect("a valid refreshed ID token");
    assert_eq!(new_claims.subject(), &subject);
    assert_eq!(new_claims.auth_time(), Some(auth_time));
    let new_refresh = refreshed.refresh_token().expect("rotated").clone();

    // Sign out through the end-session endpoint, with the ID token as hint.
    let logout_url = LogoutRequest::from(end_session)
        .set_id_token_hint(new_id_token)
        .set_client_id(ClientId::new(registered.client_id.clone()))
        .set_post_logout_redirect_uri(PostLogoutRedirectUrl::new(SIGNED_OUT.to_owned()).unwrap())
        .set_state(CsrfToken::new("bye-123".to_owned()))
        .http_get_url();
    let signed_out = get(&browser, logout_url.as_str()).await;
    assert_eq!(signed_out.status, 303, "{}", signed_out.body);
    let location = signed_out.location().expect("Location");
    assert_eq!(location, format!("{SIGNED_OUT}?state=bye-123"));

    // The session is over: the next sign-in asks for the password again,
    // and the grant made in it (no offline_access) is revoked.
    let again = get(&browser, authorize_url.as_str()).await;
    assert!(again.is_login_form(), "{}", again.body);
    let after = client
        .exchange_refresh_token(&new_refresh)
        .expect("token endpoint")
        .request_async(&http)
        .await;
    assert!(after.is_err(), "the session's refresh token died with it");
}

#[tokio::test]
async fn a_confidential_relying_party_signs_a_person_in_and_out() {
    let app = TestApp::serve().await;
    sign_in_read_claims_refresh_and_sign_out(&app, false).await;
}

#[tokio::test]
async fn a_public_relying_party_signs_a_person_in_and_out() {
    let app = TestApp::serve().await;
    sign_in_read_claims_refresh_and_sign_out(&app, true).await;
}
