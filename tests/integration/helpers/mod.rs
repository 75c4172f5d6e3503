//! `TestApp`: the real application on a fresh database, driven in-process
//! (or on a real port with [`TestApp::serve`]).
#![allow(dead_code)] // each test module uses its own subset of the helpers

pub mod binary;
pub mod browser;
pub mod instances;
pub mod oauth;
pub mod oidc;

use std::sync::LazyLock;

use poem::EndpointExt;
use poem::endpoint::BoxEndpoint;
use poem::test::{TestClient, TestResponse};
use serde_json::Value;
use tempfile::TempDir;
use tollgate::clock::Clock;
use tollgate::state::AppState;
use tollgate::{Settings, manage};

/// Logs only with `TEST_LOG=1`.
static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some() {
        tollgate::telemetry::init("debug", tollgate::telemetry::LogFormat::Text);
    }
});

pub struct TestApp {
    pub client: TestClient<BoxEndpoint<'static>>,
    pub state: AppState,
    pub database_url: String,
    _dir: TempDir,
    /// Dropping it stops the real-port server of [`TestApp::serve`].
    _server: Option<tokio::sync::oneshot::Sender<()>>,
}

pub struct TestUser {
    pub username: String,
    pub password: String,
}

impl TestApp {
    /// The app, in-process, issuer `http://127.0.0.1`: on SQLite, or on
    /// PostgreSQL when `TOLLGATE_TEST_POSTGRES_URL` is set (the CI lane runs
    /// the whole suite both ways).
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// As [`spawn`], adjusting the settings first.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> Self {
        LazyLock::force(&TRACING);
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = fresh_database_url(dir.path()).await;
        let mut settings = Settings::for_tests(&database_url);
        adjust(&mut settings);
        Self::start(dir, database_url, settings).await
    }

    /// The app on a SQLite file in either lane: for what only SQLite has.
    pub async fn spawn_sqlite() -> Self {
        LazyLock::force(&TRACING);
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("tollgate.db").display()
        );
        let settings = Settings::for_tests(&database_url);
        Self::start(dir, database_url, settings).await
    }

    pub(crate) async fn start(dir: TempDir, database_url: String, settings: Settings) -> Self {
        let db = tollgate::db::open(&database_url)
            .await
            .expect("open the database");
        let state = AppState::build(db, settings, Clock::default())
            .await
            .expect("state");
        let client = TestClient::new(
            tollgate::startup::app(state.clone())
                .map_to_response()
                .boxed(),
        );
        Self {
            client,
            state,
            database_url,
            _dir: dir,
            _server: None,
        }
    }

    /// The same app on a real loopback port, with the issuer set to its
    /// address; stopped when the `TestApp` drops. Use where a real client
    /// (the `oauth2` crate, reqwest) is the point.
    pub async fn serve() -> Self {
        Self::serve_with(|_| {}).await
    }

    /// As [`serve`], adjusting the settings first.
    pub async fn serve_with(adjust: impl FnOnce(&mut Settings)) -> Self {
        LazyLock::force(&TRACING);
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = fresh_database_url(dir.path()).await;
        Self::serve_on(dir, database_url, adjust).await
    }

    /// Serves on `database_url`. The port is bound once and the listener
    /// kept: binding port 0, dropping it and binding again later could
    /// lose the port to another test.
    async fn serve_on(
        dir: TempDir,
        database_url: String,
        adjust: impl FnOnce(&mut Settings),
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut settings = Settings::for_tests(&database_url);
        settings.bind = addr;
        settings.issuer = url::Url::parse(&format!("http://{addr}")).expect("issuer");
        adjust(&mut settings);
        let mut app = Self::start(dir, database_url, settings).await;
        let application = tollgate::Application::from_listener(app.state.clone(), listener)
            .expect("serve on the test listener");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(application.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        app._server = Some(stop);
        app
    }

    /// The base URL of a served app (`serve` only).
    pub fn base_url(&self) -> String {
        self.state.settings.issuer_str().to_owned()
    }

    pub fn clock(&self) -> &Clock {
        &self.state.clock
    }

    /// A user created the way `tollgate user create` creates one.
    pub async fn user(&self, username: &str) -> TestUser {
        let password = format!("{username}-password");
        manage::create_user(
            &self.state.db,
            username,
            password.clone(),
            manage::ProfileRequest::default(),
            self.clock().now(),
        )
        .await
        .expect("create user");
        TestUser {
            username: username.to_owned(),
            password,
        }
    }

    /// An API key for `owner` with `scopes`, as `tollgate api-key create` makes it.
    pub async fn api_key(&self, owner: &TestUser, scopes: &[&str]) -> String {
        self.api_key_expiring(owner, scopes, None).await.1
    }

    /// As [`api_key`], with an expiry; returns `(id, key)`.
    pub async fn api_key_expiring(
        &self,
        owner: &TestUser,
        scopes: &[&str],
        expires_in: Option<std::time::Duration>,
    ) -> (uuid::Uuid, String) {
        let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        let created = manage::create_api_key(
            &self.state.db,
            "test key",
            &owner.username,
            &scopes,
            expires_in,
            self.clock().now(),
        )
        .await
        .expect("create api key");
        (created.key.id, created.secret.secret().to_owned())
    }
}

/// A new, empty database: SQLite in `dir`, or PostgreSQL when
/// `TOLLGATE_TEST_POSTGRES_URL` is set.
pub async fn fresh_database_url(dir: &std::path::Path) -> String {
    match std::env::var("TOLLGATE_TEST_POSTGRES_URL") {
        Ok(base) if !base.is_empty() => fresh_postgres_database(&base).await,
        _ => format!("sqlite://{}?mode=rwc", dir.join("tollgate.db").display()),
    }
}

/// Creates `tollgate_test_<uuid>` next to the database `base` names and
/// returns its URL. `.ci/run` drops these after the run.
async fn fresh_postgres_database(base: &str) -> String {
    use sea_orm::ConnectionTrait;
    let name = format!("tollgate_test_{}", uuid::Uuid::new_v4().simple());
    let admin = sea_orm::Database::connect(base)
        .await
        .expect("connect to TOLLGATE_TEST_POSTGRES_URL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    admin.close().await.expect("close admin connection");
    let mut url = url::Url::parse(base).expect("TOLLGATE_TEST_POSTGRES_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// Reads a JSON body.
pub async fn json(resp: TestResponse) -> Value {
    resp.0.into_body().into_json().await.expect("JSON body")
}

/// Asserts an RFC 9457 problem with `status` whose detail contains `needle`,
/// and returns the response's headers for further checks.
pub async fn assert_problem(
    resp: TestResponse,
    status: u16,
    needle: &str,
) -> poem::http::HeaderMap {
    assert_eq!(resp.0.status().as_u16(), status, "status");
    let headers = resp.0.headers().clone();
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "content type"
    );
    let body = json(resp).await;
    assert_eq!(body["status"], status, "problem status: {body}");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.to_lowercase().contains(&needle.to_lowercase()),
        "detail {detail:?} should mention {needle:?}"
    );
    headers
}

pub fn www_authenticate(headers: &poem::http::HeaderMap) -> String {
    headers
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
