//! OAuth fixtures: registered clients and shortcuts through the flow.

use serde_json::Value;
use tollgate::manage::{self, ClientRequest};

use super::TestApp;
use super::browser::Browser;

pub const REDIRECT_URI: &str = "https://app.example.com/callback";
/// RFC 7636 Appendix B's pair.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub struct TestClientApp {
    pub client_id: String,
    pub secret: Option<String>,
}

/// What to register; defaults to a confidential third-party client with
/// `REDIRECT_URI`, blog:read and blog:write, code and refresh grants.
pub struct ClientSpec {
    pub public: bool,
    pub first_party: bool,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub grants: Vec<String>,
    /// A fixed client id; otherwise a random one.
    pub client_id: Option<String>,
    /// A resource server, which may introspect other clients' tokens.
    pub introspect: bool,
    /// `RS256` (the default when `None`) or `ES256`.
    pub id_token_alg: Option<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
}

impl Default for ClientSpec {
    fn default() -> Self {
        Self {
            public: false,
            first_party: false,
            redirect_uris: vec![REDIRECT_URI.to_owned()],
            scopes: vec!["blog:read blog:write".to_owned()],
            grants: vec![],
            client_id: None,
            introspect: false,
            id_token_alg: None,
            post_logout_redirect_uris: vec![],
            backchannel_logout_uri: None,
        }
    }
}

impl ClientSpec {
    pub fn public() -> Self {
        Self {
            public: true,
            ..Self::default()
        }
    }

    pub fn grants(mut self, grants: &[&str]) -> Self {
        self.grants = grants.iter().map(|g| (*g).to_owned()).collect();
        self
    }

    pub fn scopes(mut self, scopes: &str) -> Self {
        self.scopes = vec![scopes.to_owned()];
        self
    }

    pub fn first_party(mut self) -> Self {
        self.first_party = true;
        self
    }

    pub fn resource_server(mut self) -> Self {
        self.introspect = true;
        self
    }

    pub fn with_id(mut self, client_id: &str) -> Self {
        self.client_id = Some(client_id.to_owned());
        self
    }

    pub fn id_token_alg(mut self, alg: &str) -> Self {
        self.id_token_alg = Some(alg.to_owned());
        self
    }

    pub fn post_logout_redirect_uris(mut self, uris: &[&str]) -> Self {
        self.post_logout_redirect_uris = uris.iter().map(|u| (*u).to_owned()).collect();
        self
    }

    pub fn backchannel_logout_uri(mut self, uri: &str) -> Self {
        self.backchannel_logout_uri = Some(uri.to_owned());
        self
    }

    pub fn redirect_uris(mut self, uris: &[&str]) -> Self {
        self.redirect_uris = uris.iter().map(|u| (*u).to_owned()).collect();
        self
    }
}

impl TestApp {
    /// Registers a client the way `tollgate client create` does.
    pub async fn oauth_client(&self, spec: ClientSpec) -> TestClientApp {
        let created = manage::create_client(
            &self.state.db,
            ClientRequest {
                name: "Test App".to_owned(),
                redirect_uris: spec.redirect_uris,
                public: spec.public,
                scopes: spec.scopes,
                grants: spec.grants,
                first_party: spec.first_party,
                client_id: spec.client_id,
                introspect: spec.introspect,
                id_token_alg: spec.id_token_alg,
                post_logout_redirect_uris: spec.post_logout_redirect_uris,
                backchannel_logout_uri: spec.backchannel_logout_uri,
            },
            self.clock().now(),
        )
        .await
        .expect("register client");
        TestClientApp {
            client_id: created.client.id,
            secret: created.secret.map(|s| s.secret().to_owned()),
        }
    }

    /// POSTs a form to the token endpoint (client authentication is up to
    /// the caller's fields) and returns status and JSON body.
    pub async fn token(&self, fields: &[(&str, &str)]) -> (u16, Value) {
        self.post_oauth_form("/oauth/token", fields, None).await
    }

    /// As [`token`], authenticating with HTTP Basic.
    pub async fn token_basic(
        &self,
        client: &TestClientApp,
        fields: &[(&str, &str)],
    ) -> (u16, Value) {
        self.post_oauth_form("/oauth/token", fields, Some(client))
            .await
    }

    pub async fn post_oauth_form(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        basic: Option<&TestClientApp>,
    ) -> (u16, Value) {
        use base64::Engine;
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut req = self
            .client
            .post(path)
            .content_type("application/x-www-form-urlencoded")
            .body(body);
        if let Some(c) = basic {
            let creds = format!("{}:{}", c.client_id, c.secret.as_deref().unwrap_or(""));
            let encoded = base64::engine::general_purpose::STANDARD.encode(creds);
            req = req.header("authorization", format!("Basic {encoded}"));
        }
        let resp = req.send().await;
        let status = resp.0.status().as_u16();
        assert_eq!(
            resp.0
                .headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("no-store"),
            "every token endpoint answer is no-store"
        );
        let text = resp.0.into_body().into_string().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("JSON body")
        };
        (status, body)
    }

    /// The authorize URL for `client` with PKCE (S256) and `state=xyz`.
    pub fn authorize_path(&self, client: &TestClientApp, scope: &str) -> String {
        authorize_path(&client.client_id, REDIRECT_URI, scope)
    }

    /// Logs `user` in, allows consent if asked, and returns the code.
    pub async fn authorize_code(
        &self,
        browser: &mut Browser,
        user: &super::TestUser,
        client: &TestClientApp,
        scope: &str,
    ) -> String {
        let mut page = browser.get(self, &self.authorize_path(client, scope)).await;
        if page.is_login_form() {
            page = browser.log_in(self, &page, user).await;
        }
        if page.is_consent_form() {
            page = browser.decide(self, &page, "allow").await;
        }
        let params = page.redirect_params();
        assert_eq!(params.get("state").map(String::as_str), Some("xyz"));
        params.get("code").expect("a code").clone()
    }

    /// The whole flow down to a token response for a confidential client.
    pub async fn tokens_for(
        &self,
        user: &super::TestUser,
        client: &TestClientApp,
        scope: &str,
    ) -> Value {
        let mut browser = Browser::new();
        let code = self.authorize_code(&mut browser, user, client, scope).await;
        let (status, body) = self
            .token_basic(
                client,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT_URI),
                    ("code_verifier", VERIFIER),
                ],
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

/// An authorization request with PKCE ([`CHALLENGE`]) and `state=xyz`.
pub fn authorize_path(client_id: &str, redirect_uri: &str, scope: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", scope)
        .append_pair("state", "xyz")
        .append_pair("code_challenge", CHALLENGE)
        .append_pair("code_challenge_method", "S256")
        .finish();
    format!("/oauth/authorize?{query}")
}
