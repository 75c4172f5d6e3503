//! Instances starting together on one empty database: migrations and the
//! first signing keys are made under a lock, so both come up and share one
//! key of each kind (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: an advisory lock).

use poem::EndpointExt;
use poem::test::TestClient;
use serde_json::Value;
use tollgate::{Application, Settings};

use crate::helpers::{fresh_database_url, json};

/// The JWKS an instance serves, through the same endpoint `serve` runs.
async fn jwks_of(app: &Application) -> Value {
    let client = TestClient::new(tollgate::startup::app(app.state().clone()).map_to_response());
    json(client.get("/oauth/jwks").send().await).await
}

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect()
}

// Worker threads, so that the two start-ups really run in parallel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_starting_together_on_an_empty_database_both_come_up_with_one_key() {
    // Arrange: a database nothing has touched yet.
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_database_url(dir.path()).await;

    // Act: both connect, migrate, create keys and bind at the same time.
    let mut starts = tokio::task::JoinSet::new();
    for _ in 0..2 {
        let settings = Settings::for_tests(&database_url);
        starts.spawn(async move {
            Application::build(settings)
                .await
                .map_err(|e| format!("{e:#}"))
        });
    }
    let started: Vec<Application> = starts
        .join_all()
        .await
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("both instances start");

    // Assert: one key of each kind between them, published by both.
    let first = kids(&jwks_of(&started[0]).await);
    let second = kids(&jwks_of(&started[1]).await);
    assert_eq!(first.len(), 2, "{first:?}");
    assert_eq!(first, second);
    let db = &started[0].state().db;
    let current = tollgate::store::signing_keys::current_algorithms(db)
        .await
        .expect("current keys");
    assert_eq!(current, ["ES256", "RS256"]);
}
