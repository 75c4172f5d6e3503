//! An authorization code is single-use across the cluster: issued at one
//! instance, it is redeemed at another once, and of redemptions racing
//! over every instance exactly one wins (RFC 6749 §4.1.2).

use futures_util::future::join_all;
use oauth2::basic::BasicErrorResponseType;
use oauth2::{AuthorizationCode, PkceCodeVerifier, TokenResponse};

use super::{Cluster, error_code, name};
use crate::helpers::oauth::{ClientSpec, TestClientApp};

/// Redemptions of one code sent at once, spread over the instances.
const RACERS: usize = 20;

/// A new client, and alice's code for it from instance A, got through the
/// oauth2 crate, with its PKCE verifier.
async fn code_issued_at_a(cluster: &Cluster) -> (TestClientApp, AuthorizationCode, String) {
    let alice = cluster.setup.user("alice").await;
    let registered = cluster.setup.oauth_client(ClientSpec::default()).await;
    let at_a = cluster.oauth2_client(0, &registered);
    let (code, verifier) = cluster
        .authorize_with_oauth2(0, &at_a, &alice, "blog:read")
        .await;
    (registered, code, verifier)
}

#[tokio::test]
async fn a_code_issued_by_one_instance_is_redeemed_at_another_exactly_once() {
    // Arrange: the oauth2 crate starts the flow at A, where alice signs in.
    let cluster = Cluster::start().await;
    let (registered, code, verifier) = code_issued_at_a(&cluster).await;
    let http = super::http();

    // Act: B redeems it.
    let tokens = cluster
        .oauth2_client(1, &registered)
        .exchange_code(code.clone())
        .set_pkce_verifier(PkceCodeVerifier::new(verifier.clone()))
        .request_async(&http)
        .await
        .expect("B redeems A's code");

    // Assert: the token works everywhere; the code works nowhere again.
    let access = tokens.access_token().secret();
    for i in 0..cluster.size() {
        assert_eq!(
            cluster.bearer_status(i, access).await,
            200,
            "{} takes the token",
            name(i)
        );
    }
    for i in (0..cluster.size()).rev() {
        let again = cluster
            .oauth2_client(i, &registered)
            .exchange_code(code.clone())
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.clone()))
            .request_async(&http)
            .await
            .expect_err("a second redemption fails");
        assert_eq!(
            error_code(&again),
            BasicErrorResponseType::InvalidGrant,
            "at {}",
            name(i)
        );
    }
}

#[tokio::test]
async fn of_20_redemptions_of_one_code_racing_across_the_instances_exactly_one_succeeds() {
    // Arrange
    let cluster = Cluster::start().await;
    let (registered, code, verifier) = code_issued_at_a(&cluster).await;
    let http = super::http();
    let clients: Vec<_> = (0..RACERS)
        .map(|k| cluster.oauth2_client(k % cluster.size(), &registered))
        .collect();

    // Act: all at once.
    let results = join_all(clients.iter().map(|client| {
        client
            .exchange_code(code.clone())
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.clone()))
            .request_async(&http)
    }))
    .await;

    // Assert
    let (won, lost): (Vec<_>, Vec<_>) = results.iter().partition(|r| r.is_ok());
    assert_eq!(won.len(), 1, "exactly one redemption wins: {results:?}");
    for result in lost {
        let err = result.as_ref().expect_err("a loser");
        assert_eq!(error_code(err), BasicErrorResponseType::InvalidGrant);
    }
}
