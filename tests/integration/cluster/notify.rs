//! What carries a change between instances: on PostgreSQL a notification
//! as the change commits, so the poll does not matter; on SQLite, which
//! has no notifications, the poll alone.

use std::time::{Duration, Instant};

use super::{Cluster, PROPAGATION, SLACK, http, name, wait_since};
use crate::helpers::oauth::{ClientSpec, TestClientApp};

/// Longer than the test runs: an instance polling this seldom hears of a
/// peer's change within the test only by a notification.
const SLOW_POLL: &str = "30s";
/// How soon a notification must have come.
const NOTIFIED_WITHIN: Duration = Duration::from_secs(1);

async fn revoke(cluster: &Cluster, i: usize, client: &TestClientApp, token: &str) {
    let resp = http()
        .post(cluster.url(i, "/oauth/revoke"))
        .basic_auth(&client.client_id, client.secret.as_deref())
        .form(&[("token", token)])
        .send()
        .await
        .expect("revocation");
    assert_eq!(resp.status(), 200);
}

/// On PostgreSQL every instance polls every 30 s; on SQLite only B does,
/// and A polls at the default interval.
#[tokio::test]
async fn with_a_30s_poll_a_revocation_comes_at_once_by_notification_on_postgresql_and_by_the_poll_on_sqlite()
 {
    // Arrange: two tokens every instance has taken.
    let cluster = Cluster::start_with(
        |i, postgres| {
            if postgres || i == 1 {
                vec!["--peer-sync-interval".to_owned(), SLOW_POLL.to_owned()]
            } else {
                vec![]
            }
        },
        &[],
    )
    .await;
    let service = cluster
        .setup
        .oauth_client(ClientSpec::default().grants(&["client_credentials"]))
        .await;
    let first = cluster.service_token(0, &service).await;
    let second = cluster.service_token(0, &service).await;
    for i in 0..cluster.size() {
        assert_eq!(cluster.bearer_status(i, &first).await, 200);
        assert_eq!(cluster.bearer_status(i, &second).await, 200);
    }

    if cluster.postgres {
        // Act
        let revoked_at = Instant::now();
        revoke(&cluster, 0, &service, &first).await;

        // Assert: long before any instance polls.
        for i in 1..cluster.size() {
            wait_since(
                revoked_at,
                NOTIFIED_WITHIN + SLACK,
                &format!("the notification reaches {}", name(i)),
                || async { cluster.bearer_status(i, &first).await == 401 },
            )
            .await;
        }
        return;
    }

    // Act (SQLite): one token revoked at B, which A polls for every
    // second; then the other at A, which B polls for only every 30 s (in
    // this order, so that whatever B reads as it revokes is read before).
    let revoked_at_b = Instant::now();
    revoke(&cluster, 1, &service, &second).await;
    let revoked_at_a = Instant::now();
    revoke(&cluster, 0, &service, &first).await;

    // Assert: A's poll brings it B's revocation...
    wait_since(
        revoked_at_b,
        PROPAGATION + SLACK,
        "A's poll brings B's revocation",
        || async { cluster.bearer_status(0, &second).await == 401 },
    )
    .await;
    // ...and nothing but the poll would bring B A's: after twice the
    // default interval, B still takes the token.
    let unheard = 2 * PROPAGATION;
    tokio::time::sleep(unheard.saturating_sub(revoked_at_a.elapsed())).await;
    assert_eq!(
        cluster.bearer_status(1, &first).await,
        200,
        "B, polling every {SLOW_POLL}, has not heard of A's revocation"
    );
}
