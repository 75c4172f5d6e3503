//! The multi-instance lane: real `tollgate serve` processes on real
//! loopback ports sharing one database, as an operator runs them behind a
//! load balancer. Three on one PostgreSQL database when
//! `TOLLGATE_TEST_POSTGRES_URL` is set, otherwise two on one SQLite file
//! (a small install). One file per property; this one starts the cluster
//! and holds what the tests share.

mod admin_clients;
mod codes;
mod flow;
mod housekeeping;
mod keys_rotate;
mod notify;
mod refresh_replay;
mod revocation;
mod sigkill;
mod throttling;

use std::future::Future;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::future::join_all;
use reqwest::redirect::Policy;
use serde_json::Value;
use tempfile::TempDir;

pub use self::flow::{authorize_path, error_code, submit};
use crate::helpers::binary::Server;
use crate::helpers::oauth::TestClientApp;
use crate::helpers::{TestApp, fresh_database_url};

/// The documented delay for a change at one instance to reach the others
/// when no notification brings it: the default `peer_sync_interval`.
pub const PROPAGATION: Duration = Duration::from_secs(1);
/// Room for a loaded CI machine (debug build, the rest of the suite
/// beside). Waits end as soon as the awaited event happens, so this only
/// bounds how long a failure takes to show.
pub const SLACK: Duration = Duration::from_secs(3);
/// Bounds every request, so that a hung server fails the test.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

pub struct Cluster {
    /// Killed when dropped.
    pub nodes: Vec<Server>,
    /// The first instance's address, which every instance is given as its
    /// issuer, as all would be given the load balancer's.
    pub issuer: String,
    pub database_url: String,
    pub postgres: bool,
    /// The application in-process on the same database, serving nothing
    /// and running no loops: it makes users, clients and keys the way the
    /// command line does.
    pub setup: TestApp,
    /// The servers' working directory (and the SQLite file's).
    pub dir: TempDir,
}

impl Cluster {
    pub async fn start() -> Self {
        Self::start_with(|_, _| vec![], &[]).await
    }

    /// Starts the cluster with `flags(instance, postgres)` added to each
    /// instance's command line and `env` to every instance's environment.
    pub async fn start_with(
        flags: impl Fn(usize, bool) -> Vec<String>,
        env: &[(&str, &str)],
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = fresh_database_url(dir.path()).await;
        let postgres = database_url.starts_with("postgres");
        let size = if postgres { 3 } else { 2 };
        // Migrates and makes the first signing keys before any server
        // starts, so that the instances after the first can start at once.
        let settings = tollgate::Settings::for_tests(&database_url);
        let setup = TestApp::start(
            tempfile::tempdir().expect("temp dir"),
            database_url.clone(),
            settings,
        )
        .await;
        let start = |own: Vec<String>| {
            let (dir, database_url) = (dir.path(), database_url.as_str());
            async move {
                let own: Vec<&str> = own.iter().map(String::as_str).collect();
                Server::start_with_env(dir, database_url, &own, env).await
            }
        };
        let first = start(flags(0, postgres)).await;
        let issuer = first.base.clone();
        let rest = join_all((1..size).map(|i| {
            let mut own = flags(i, postgres);
            own.extend(["--issuer".to_owned(), issuer.clone()]);
            start(own)
        }))
        .await;
        let nodes: Vec<Server> = std::iter::once(first).chain(rest).collect();
        Self {
            nodes,
            issuer,
            database_url,
            postgres,
            setup,
            dir,
        }
    }

    pub fn size(&self) -> usize {
        self.nodes.len()
    }

    /// The last instance: C on PostgreSQL, B on SQLite.
    pub fn last(&self) -> usize {
        self.nodes.len() - 1
    }

    /// `path` at instance `i` itself.
    pub fn url(&self, i: usize, path: &str) -> String {
        format!("{}{path}", self.nodes[i].base)
    }

    /// `GET /api/v1/posts` at instance `i` with a Bearer token: its status.
    pub async fn bearer_status(&self, i: usize, token: &str) -> u16 {
        send(http().get(self.url(i, "/api/v1/posts")).bearer_auth(token))
            .await
            .status()
            .as_u16()
    }

    /// `GET /api/v1/posts` at instance `i` with an API key: its status.
    pub async fn api_key_status(&self, i: usize, key: &str) -> u16 {
        send(
            http()
                .get(self.url(i, "/api/v1/posts"))
                .header("X-API-Key", key),
        )
        .await
        .status()
        .as_u16()
    }

    /// A token request at instance `i`, authenticated with HTTP Basic as
    /// `client`: status and JSON body.
    pub async fn token(
        &self,
        i: usize,
        client: &TestClientApp,
        fields: &[(&str, &str)],
    ) -> (u16, Value) {
        let req = http()
            .post(self.url(i, "/oauth/token"))
            .basic_auth(&client.client_id, client.secret.as_deref())
            .form(fields);
        let resp = send(req).await;
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("a JSON token answer"))
    }

    /// A `client_credentials` access token from instance `i`.
    pub async fn service_token(&self, i: usize, client: &TestClientApp) -> String {
        let (status, body) = self
            .token(i, client, &[("grant_type", "client_credentials")])
            .await;
        assert_eq!(status, 200, "{body}");
        field(&body, "access_token")
    }
}

/// A client for API and token calls; follows no redirects.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("reqwest client")
}

/// A person's browser: keeps cookies, follows no redirects (the last one
/// leads to the client, which is not running).
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("reqwest client")
}

async fn send(req: reqwest::RequestBuilder) -> reqwest::Response {
    req.send().await.expect("an answer")
}

/// A string member of a JSON answer.
pub fn field(body: &Value, name: &str) -> String {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {body}"))
        .to_owned()
}

/// The `kid` in a JWT's header.
pub fn kid_of(jwt: &str) -> String {
    let header = jwt.split('.').next().expect("a JWT");
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("base64url header"))
            .expect("JSON header");
    field(&header, "kid")
}

/// Polls `check` until it holds; returns how long that took, or fails
/// after `within`.
pub async fn wait_until<F, Fut>(within: Duration, what: &str, check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    wait_since(Instant::now(), within, what, check).await
}

/// Polls `check` until it holds; returns how long after `since` that
/// was, or fails once `within` of `since` has gone by. For delays counted
/// from an event, however many waits come after it.
pub async fn wait_since<F, Fut>(
    since: Instant,
    within: Duration,
    what: &str,
    mut check: F,
) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    loop {
        if check().await {
            return since.elapsed();
        }
        assert!(since.elapsed() < within, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `A`, `B`, `C`: an instance's name in failure messages.
pub fn name(i: usize) -> char {
    char::from(b'A' + u8::try_from(i).expect("a few instances"))
}
