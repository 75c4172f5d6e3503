//! The code flow, as a person's browser and as the `oauth2` crate run it,
//! against one chosen instance.

use oauth2::basic::{BasicClient, BasicErrorResponse, BasicErrorResponseType};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, RedirectUrl, RequestTokenError, Scope, TokenUrl,
};
use serde_json::Value;

use super::{Cluster, browser, send};
use crate::helpers::TestUser;
use crate::helpers::browser::Page;
pub use crate::helpers::oauth::authorize_path;
use crate::helpers::oauth::{REDIRECT_URI, TestClientApp, VERIFIER};

/// A `BasicClient` with authorize and token URLs.
pub type OAuthClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

impl Cluster {
    /// Signs `user` in at instance `i` in `browser` (unless signed in
    /// already) and allows consent if asked; returns the code, made with
    /// [`crate::helpers::oauth::CHALLENGE`].
    pub async fn code_at(
        &self,
        i: usize,
        browser: &reqwest::Client,
        client: &TestClientApp,
        user: &TestUser,
        scope: &str,
    ) -> String {
        let url = self.url(i, &authorize_path(&client.client_id, REDIRECT_URI, scope));
        let params = self.sign_in_and_allow(i, browser, &url, user).await;
        assert_eq!(params.0.get("state").map(String::as_str), Some("xyz"));
        params.code()
    }

    /// The whole flow at instance `i` down to its token answer.
    pub async fn tokens_at(
        &self,
        i: usize,
        client: &TestClientApp,
        user: &TestUser,
        scope: &str,
    ) -> Value {
        let code = self.code_at(i, &browser(), client, user, scope).await;
        let (status, body) = self.exchange(i, client, &code).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Redeems a code made by [`Cluster::code_at`] at instance `i`.
    pub async fn exchange(&self, i: usize, client: &TestClientApp, code: &str) -> (u16, Value) {
        let fields = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
        ];
        self.token(i, client, &fields).await
    }

    /// The `oauth2` crate's client for `registered`, sent to instance `i`
    /// (where a load balancer might send it).
    pub fn oauth2_client(&self, i: usize, registered: &TestClientApp) -> OAuthClient {
        let client = BasicClient::new(ClientId::new(registered.client_id.clone()))
            .set_auth_uri(AuthUrl::new(self.url(i, "/oauth/authorize")).expect("auth URL"))
            .set_token_uri(TokenUrl::new(self.url(i, "/oauth/token")).expect("token URL"))
            .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.to_owned()).expect("redirect URL"));
        match &registered.secret {
            Some(secret) => client.set_client_secret(ClientSecret::new(secret.clone())),
            None => client,
        }
    }

    /// The `oauth2` crate starts an authorization request (PKCE S256, a
    /// random state) at instance `i`, and `user` signs in and allows it
    /// there. Returns the code and the PKCE verifier's secret.
    pub async fn authorize_with_oauth2(
        &self,
        i: usize,
        client: &OAuthClient,
        user: &TestUser,
        scope: &str,
    ) -> (AuthorizationCode, String) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = client
            .authorize_url(CsrfToken::new_random)
            .add_scope(Scope::new(scope.to_owned()))
            .set_pkce_challenge(challenge)
            .url();
        let params = self
            .sign_in_and_allow(i, &browser(), url.as_str(), user)
            .await;
        assert_eq!(
            params.0.get("state").map(String::as_str),
            Some(state.secret().as_str())
        );
        (
            AuthorizationCode::new(params.code()),
            verifier.secret().clone(),
        )
    }

    /// Opens `authorize_url` at instance `i`, signs in and allows consent
    /// when asked; returns the redirect's query parameters.
    async fn sign_in_and_allow(
        &self,
        i: usize,
        browser: &reqwest::Client,
        authorize_url: &str,
        user: &TestUser,
    ) -> RedirectParams {
        let base = &self.nodes[i].base;
        let mut page = Page::read(send(browser.get(authorize_url)).await).await;
        if page.is_login_form() {
            let credentials = [
                ("username", user.username.as_str()),
                ("password", user.password.as_str()),
            ];
            page = submit(browser, base, &page, &credentials).await;
        }
        if page.is_consent_form() {
            page = submit(browser, base, &page, &[("decision", "allow")]).await;
        }
        assert!(
            page.location().is_some(),
            "a redirect to the client: {} {}",
            page.status,
            page.body
        );
        let params = page.redirect_params();
        assert_eq!(
            params.get("iss"),
            Some(&self.issuer),
            "every instance names the shared issuer (RFC 9207)"
        );
        RedirectParams(params)
    }
}

struct RedirectParams(std::collections::HashMap<String, String>);

impl RedirectParams {
    fn code(&self) -> String {
        self.0.get("code").expect("a code in the redirect").clone()
    }
}

/// Posts `page`'s form with its CSRF field and `fields`.
pub async fn submit(
    browser: &reqwest::Client,
    base: &str,
    page: &Page,
    fields: &[(&str, &str)],
) -> Page {
    let action = page.form_action().expect("a form action");
    let url = url::Url::parse(base)
        .and_then(|b| b.join(&action))
        .expect("form action URL");
    let csrf = page.field("csrf_token").expect("a hidden csrf_token field");
    let mut form = vec![("csrf_token", csrf.as_str())];
    form.extend_from_slice(fields);
    Page::read(send(browser.post(url).form(&form)).await).await
}

/// The OAuth error code of a failed `oauth2` crate request.
pub fn error_code<RE: std::error::Error + 'static>(
    err: &RequestTokenError<RE, BasicErrorResponse>,
) -> BasicErrorResponseType {
    match err {
        RequestTokenError::ServerResponse(resp) => resp.error().clone(),
        other => panic!("expected an OAuth error answer, got {other:?}"),
    }
}
