//! OpenID Connect fixtures: users with a profile, codes as the authorize
//! endpoint stores them, and ID tokens verified the way a relying party
//! verifies them, from the JWKS.

use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{DecodingKey, Header, Validation, decode, decode_header};
use poem::test::TestResponse;
use serde_json::Value;
use tollgate::manage::{self, ProfileRequest};
use tollgate::secrets::lookup_hash;
use tollgate::store;

use super::oauth::{CHALLENGE, REDIRECT_URI, TestClientApp, VERIFIER};
use super::{TestApp, TestUser, json};

/// What the authorize endpoint put in a code.
pub struct StoredCode<'a> {
    pub scopes: &'a str,
    pub nonce: Option<&'a str>,
    pub auth_time: DateTime<Utc>,
    pub sid: Option<&'a str>,
}

impl TestApp {
    /// A user with a name and an (unverified) email address.
    pub async fn user_with_profile(&self, username: &str, name: &str, email: &str) -> TestUser {
        let password = format!("{username}-password");
        manage::create_user(
            &self.state.db,
            username,
            password.clone(),
            ProfileRequest {
                name: Some(name.to_owned()),
                email: Some(email.to_owned()),
                email_verified: false,
            },
            self.clock().now(),
        )
        .await
        .expect("create user");
        TestUser {
            username: username.to_owned(),
            password,
        }
    }

    pub async fn user_row(&self, user: &TestUser) -> entity::user::Model {
        store::users::find_by_username(&self.state.db, &user.username)
            .await
            .expect("query")
            .expect("the user exists")
    }

    /// A code for `user` as the authorize endpoint stores one after a
    /// sign-in (PKCE with [`CHALLENGE`], redirect [`REDIRECT_URI`]), with
    /// the OIDC fields chosen by the test; stored through the store.
    pub async fn stored_code(
        &self,
        user: &TestUser,
        client: &TestClientApp,
        code: StoredCode<'_>,
    ) -> String {
        let user = self.user_row(user).await;
        let secret = format!("test-code-{}", uuid::Uuid::new_v4().simple());
        let now = self.clock().now();
        store::codes::insert(
            &self.state.db,
            entity::authorization_code::Model {
                code_hash: lookup_hash(&secret),
                grant_id: uuid::Uuid::new_v4(),
                client_id: client.client_id.clone(),
                user_id: user.id,
                redirect_uri: Some(REDIRECT_URI.to_owned()),
                code_challenge: Some(CHALLENGE.to_owned()),
                scopes: code.scopes.to_owned(),
                created_at: now,
                expires_at: now + TimeDelta::seconds(60),
                redeemed_at: None,
                session_hash: None,
                nonce: code.nonce.map(str::to_owned),
                auth_time: Some(code.auth_time),
                sid: code.sid.map(str::to_owned),
            },
        )
        .await
        .expect("store the code");
        secret
    }

    /// Redeems `code` for `client` (HTTP Basic, or `client_id` alone for a
    /// public client).
    pub async fn redeem(&self, client: &TestClientApp, code: &str) -> (u16, Value) {
        let mut fields = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
        ];
        if client.secret.is_some() {
            return self.token_basic(client, &fields).await;
        }
        fields.push(("client_id", &client.client_id));
        self.token(&fields).await
    }

    /// As [`redeem`], which must succeed.
    pub async fn redeem_ok(&self, client: &TestClientApp, code: &str) -> Value {
        let (status, body) = self.redeem(client, code).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Refreshes with `refresh_token`, asking for `scope` if given.
    pub async fn refresh(
        &self,
        client: &TestClientApp,
        refresh_token: &str,
        scope: Option<&str>,
    ) -> (u16, Value) {
        let mut fields = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        if let Some(scope) = scope {
            fields.push(("scope", scope));
        }
        self.token_basic(client, &fields).await
    }

    /// The JWKS, as a relying party fetches it.
    pub async fn jwks(&self) -> Value {
        let resp = self.client.get("/oauth/jwks").send().await;
        resp.assert_status_is_ok();
        json(resp).await
    }

    /// Verifies an ID token as a relying party does (OIDC Core §3.1.3.7):
    /// the key of its `kid` from the JWKS, its algorithm, `iss`, `aud`
    /// and `exp`; returns the header and the claims.
    pub async fn verify_id_token(&self, token: &str, client_id: &str) -> (Header, Value) {
        let header = decode_header(token).expect("a JWT header");
        let kid = header.kid.clone().expect("a kid");
        let jwks = self.jwks().await;
        let jwk = jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .find(|k| k["kid"] == kid.as_str())
            .unwrap_or_else(|| panic!("kid {kid} is in the JWKS {jwks}"));
        let jwk: Jwk = serde_json::from_value(jwk.clone()).expect("a JWK");
        let key = DecodingKey::from_jwk(&jwk).expect("a usable JWK");
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[self.state.settings.issuer_str()]);
        validation.set_audience(&[client_id]);
        validation.set_required_spec_claims(&["iss", "sub", "aud", "exp", "iat"]);
        let claims = decode::<Value>(token, &key, &validation)
            .expect("the ID token verifies with its published key")
            .claims;
        (header, claims)
    }

    /// GET /oauth/userinfo with `Authorization: Bearer`.
    pub async fn userinfo(&self, access_token: &str) -> TestResponse {
        self.client
            .get("/oauth/userinfo")
            .header("authorization", format!("Bearer {access_token}"))
            .send()
            .await
    }
}

/// The claims of a JWT, unverified (for access tokens the test trusts).
pub fn jwt_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// OIDC Core §3.1.3.6, computed independently of the server's code.
pub fn expected_at_hash(access_token: &str) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(access_token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}
