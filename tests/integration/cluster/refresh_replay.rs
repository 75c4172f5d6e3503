//! A refresh token rotated at one instance and replayed at another
//! revokes its whole family at every instance (OAuth 2.1 §4.3.1).

use std::time::Instant;

use oauth2::basic::BasicErrorResponseType;
use oauth2::{PkceCodeVerifier, TokenResponse};

use super::{Cluster, PROPAGATION, SLACK, error_code, name, wait_since};
use crate::helpers::oauth::ClientSpec;

#[tokio::test]
async fn a_refresh_token_rotated_at_one_instance_and_replayed_at_another_revokes_the_family_everywhere()
 {
    // Arrange: tokens from A, rotated at A; every instance takes the new
    // access token (and so may hold it as good).
    let cluster = Cluster::start().await;
    let alice = cluster.setup.user("alice").await;
    let registered = cluster.setup.oauth_client(ClientSpec::default()).await;
    let http = super::http();
    let at_a = cluster.oauth2_client(0, &registered);
    let (code, verifier) = cluster
        .authorize_with_oauth2(0, &at_a, &alice, "blog:read")
        .await;
    let first = at_a
        .exchange_code(code)
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(&http)
        .await
        .expect("code exchange");
    let first_refresh = first.refresh_token().expect("a refresh token").clone();
    let rotated = at_a
        .exchange_refresh_token(&first_refresh)
        .request_async(&http)
        .await
        .expect("rotation at A");
    let rotated_refresh = rotated.refresh_token().expect("a new refresh token");
    let rotated_access = rotated.access_token().secret();
    for i in 0..cluster.size() {
        assert_eq!(cluster.bearer_status(i, rotated_access).await, 200);
    }

    // Act: the old refresh token again, at the last instance, as a thief
    // holding a copy would.
    let last = cluster.last();
    let replayed_at = Instant::now();
    let replay = cluster
        .oauth2_client(last, &registered)
        .exchange_refresh_token(&first_refresh)
        .request_async(&http)
        .await
        .expect_err("the replay is refused");

    // Assert
    assert_eq!(error_code(&replay), BasicErrorResponseType::InvalidGrant);
    for i in 0..cluster.size() {
        let refused = cluster
            .oauth2_client(i, &registered)
            .exchange_refresh_token(rotated_refresh)
            .request_async(&http)
            .await
            .expect_err("the rotated-to refresh token is revoked");
        assert_eq!(
            error_code(&refused),
            BasicErrorResponseType::InvalidGrant,
            "at {}",
            name(i)
        );
        wait_since(
            replayed_at,
            PROPAGATION + SLACK,
            &format!("{} refuses the rotated-to access token", name(i)),
            || async { cluster.bearer_status(i, rotated_access).await == 401 },
        )
        .await;
    }
}
