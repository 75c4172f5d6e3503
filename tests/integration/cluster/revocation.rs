//! An access token revoked at one instance (RFC 7009) and an API key
//! revoked there through the admin API are refused by every other
//! instance within the documented delay.

use std::time::Instant;

use super::{Cluster, PROPAGATION, SLACK, field, http, name, wait_since};
use crate::helpers::oauth::ClientSpec;

#[tokio::test]
async fn an_access_token_and_an_api_key_revoked_at_one_instance_are_refused_by_the_others_within_the_delay()
 {
    // Arrange: every instance has taken both credentials, so any cache
    // of theirs holds them as good.
    let cluster = Cluster::start().await;
    let alice = cluster.setup.user("alice").await;
    let root = cluster.setup.user("root").await;
    let admin_key = cluster.setup.api_key(&root, &["admin"]).await;
    let client = cluster.setup.oauth_client(ClientSpec::default()).await;
    let tokens = cluster.tokens_at(0, &client, &alice, "blog:read").await;
    let access = field(&tokens, "access_token");
    let (key_id, key) = cluster
        .setup
        .api_key_expiring(&alice, &["blog:read"], None)
        .await;
    for i in 0..cluster.size() {
        assert_eq!(cluster.bearer_status(i, &access).await, 200);
        assert_eq!(cluster.api_key_status(i, &key).await, 200);
    }

    // Act: both revoked at A.
    let revoked_at = Instant::now();
    let revoked = http()
        .post(cluster.url(0, "/oauth/revoke"))
        .basic_auth(&client.client_id, client.secret.as_deref())
        .form(&[("token", access.as_str())])
        .send()
        .await
        .expect("revocation");
    assert_eq!(revoked.status(), 200);
    let deleted = http()
        .delete(cluster.url(0, &format!("/admin/v1/api-keys/{key_id}")))
        .header("X-API-Key", &admin_key)
        .send()
        .await
        .expect("key deletion");
    assert_eq!(deleted.status(), 204);

    // Assert: A at once, the others within the delay.
    assert_eq!(cluster.bearer_status(0, &access).await, 401);
    assert_eq!(cluster.api_key_status(0, &key).await, 401);
    for i in 1..cluster.size() {
        wait_since(
            revoked_at,
            PROPAGATION + SLACK,
            &format!("{} refuses the revoked token", name(i)),
            || async { cluster.bearer_status(i, &access).await == 401 },
        )
        .await;
        wait_since(
            revoked_at,
            PROPAGATION + SLACK,
            &format!("{} refuses the revoked API key", name(i)),
            || async { cluster.api_key_status(i, &key).await == 401 },
        )
        .await;
    }
}
