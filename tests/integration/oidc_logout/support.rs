//! Shortcuts for the logout tests: a signed-in browser and its session
//! row, ID token hints signed with the server's own keys (or another
//! key), and a receiver for Back-Channel Logout tokens.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use entity::browser_session;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse, Request, Response};
use serde_json::{Value, json};
use tollgate::secrets::lookup_hash;
use tollgate::store;
use uuid::Uuid;

use crate::helpers::browser::{Browser, Page};
use crate::helpers::oauth::{REDIRECT_URI, TestClientApp};
use crate::helpers::{TestApp, TestUser};

pub const SIGNED_OUT_URI: &str = "https://app.example.com/signed-out?from=tollgate";
pub const SESSION_COOKIE: &str = "tollgate_session";

/// A person signed in through the code flow with `client` (which records
/// the client among the session's, for Back-Channel Logout).
pub async fn signed_in(
    app: &TestApp,
    user: &TestUser,
    client: &TestClientApp,
    scope: &str,
) -> Browser {
    let mut browser = Browser::new();
    app.authorize_code(&mut browser, user, client, scope).await;
    let session = session_of(app, &browser).await.expect("a live session");
    let clients = store::sessions::clients_of(&app.state.db, &session.id_hash)
        .await
        .unwrap();
    assert_eq!(clients, vec![client.client_id.clone()]);
    browser
}

/// The session row the browser's cookie names, if it is still there.
pub async fn session_of(app: &TestApp, browser: &Browser) -> Option<browser_session::Model> {
    let cookie = browser.cookie(SESSION_COOKIE)?;
    store::sessions::find(&app.state.db, &lookup_hash(cookie))
        .await
        .unwrap()
        .map(|(session, _)| session)
}

pub async fn user_id(app: &TestApp, user: &TestUser) -> Uuid {
    store::users::find_by_username(&app.state.db, &user.username)
        .await
        .unwrap()
        .expect("the user")
        .id
}

/// The claims of an ID token we issued to `client` for `user` in the
/// browser's session, issued now.
pub async fn id_token_claims(
    app: &TestApp,
    user: &TestUser,
    client: &TestClientApp,
    browser: &Browser,
) -> Value {
    let sid = session_of(app, browser).await.expect("a session").sid;
    let now = app.clock().now().timestamp();
    json!({
        "iss": app.state.settings.issuer_str(),
        "sub": user_id(app, user).await.to_string(),
        "aud": client.client_id,
        "azp": client.client_id,
        "iat": now,
        "exp": now + 900,
        "auth_time": now,
        "sid": sid,
    })
}

/// An ID token with `claims`, signed by the server's current key (the one
/// that signs ID tokens for ES256 clients).
pub fn sign_hint(app: &TestApp, claims: &Value) -> String {
    let keys = app.state.keys.snapshot();
    let key = keys.current();
    let mut header = Header::new(key.algorithm);
    header.typ = Some("JWT".to_owned());
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding).unwrap()
}

/// The same, but signed by a key of the attacker's under our `kid`.
pub fn forge_hint(app: &TestApp, claims: &Value) -> String {
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .unwrap();
    let mut header = Header::new(Algorithm::ES256);
    header.typ = Some("JWT".to_owned());
    header.kid = Some(app.state.keys.snapshot().current().kid.clone());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_der(pkcs8.as_ref())).unwrap()
}

/// `/oauth/logout?...`
pub fn logout_path(params: &[(&str, &str)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    format!("/oauth/logout?{query}")
}

/// Asserts the confirmation page: one POST form with the session's CSRF
/// token and a "Sign out" button.
pub fn assert_confirmation_page(page: &Page) {
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.location().is_none(), "no redirect");
    assert_eq!(page.body.matches("<form").count(), 1, "{}", page.body);
    assert!(page.body.contains("method=\"post\""), "{}", page.body);
    assert!(page.body.contains(">Sign out</button>"), "{}", page.body);
    let csrf = page.field("csrf_token").unwrap_or_default();
    assert!(!csrf.is_empty(), "{}", page.body);
}

/// Asserts the signed-out page.
pub fn assert_signed_out_page(page: &Page) {
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("You are signed out"), "{}", page.body);
    assert!(page.location().is_none());
}

/// Asserts a 400 page that names `needle` and redirects nowhere.
pub fn assert_error_page(page: &Page, needle: &str) {
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.location().is_none(), "never a redirect");
    assert!(page.body.contains(needle), "{needle:?} in {}", page.body);
}

/// Asserts the browser's session is still alive on the server.
pub async fn assert_still_signed_in(app: &TestApp, browser: &mut Browser, client: &TestClientApp) {
    assert!(session_of(app, browser).await.is_some(), "session row kept");
    let page = browser
        .get(app, &app.authorize_path(client, "blog:read"))
        .await;
    assert!(!page.is_login_form(), "still signed in: {}", page.body);
    let location = page.location().unwrap_or_default();
    assert!(
        location.starts_with(REDIRECT_URI) || page.is_consent_form(),
        "{} {location}",
        page.status
    );
}

/// One request a receiver saw.
#[derive(Clone, Debug)]
pub struct Received {
    pub content_type: String,
    pub logout_token: String,
}

/// What the receiver answers.
#[derive(Clone, Copy)]
pub enum Behaviour {
    Ok,
    Status(u16),
    /// Answers 200 after this long.
    Slow(Duration),
}

/// A relying party's back-channel logout endpoint on a real port.
pub struct Receiver {
    pub uri: String,
    seen: Arc<Mutex<Vec<Received>>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

struct Recorder {
    seen: Arc<Mutex<Vec<Received>>>,
    behaviour: Behaviour,
}

impl Endpoint for Recorder {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let content_type = req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = req.take_body().into_bytes().await?;
        let logout_token = url::form_urlencoded::parse(&body)
            .find(|(k, _)| k == "logout_token")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        self.seen.lock().unwrap().push(Received {
            content_type,
            logout_token,
        });
        let status = match self.behaviour {
            Behaviour::Ok => StatusCode::OK,
            Behaviour::Status(code) => StatusCode::from_u16(code).unwrap(),
            Behaviour::Slow(delay) => {
                tokio::time::sleep(delay).await;
                StatusCode::OK
            }
        };
        Ok(status.into_response())
    }
}

impl Receiver {
    pub async fn start(behaviour: Behaviour) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let endpoint = Recorder {
            seen: seen.clone(),
            behaviour,
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).unwrap();
        tokio::spawn(
            poem::Server::new_with_acceptor(acceptor).run_with_graceful_shutdown(
                endpoint,
                async move {
                    let _ = stopped.await;
                },
                Some(Duration::from_millis(100)),
            ),
        );
        Self {
            uri: format!("http://{addr}/backchannel-logout"),
            seen,
            _stop: stop,
        }
    }

    /// A URI where nothing listens: a port bound, then let go.
    pub async fn down_uri() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        format!("http://{addr}/backchannel-logout")
    }

    pub fn seen(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits until `n` requests arrived (or `within` passed); returns them.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let start = Instant::now();
        while self.seen().len() < n && start.elapsed() < within {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.seen()
    }
}

/// The value of `tollgate_backchannel_logout_total{outcome=...}`.
pub fn backchannel_count(metrics: &tollgate::metrics::Metrics, outcome: &str) -> u64 {
    let text = metrics.render().unwrap();
    let prefix = format!("tollgate_backchannel_logout_total{{outcome=\"{outcome}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or_else(|| panic!("{prefix} in {text}"))
}
