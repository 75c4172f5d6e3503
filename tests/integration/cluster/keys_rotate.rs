//! `tollgate keys rotate`, run against the database from outside every
//! server, reaches every instance within the documented delay: each
//! publishes the new keys and signs with them, each accepts what the
//! others sign, and tokens signed by the old key stay valid.

use std::time::Instant;

use serde_json::Value;

use super::{Cluster, PROPAGATION, SLACK, http, kid_of, name, wait_since};
use crate::helpers::binary::run_json;
use crate::helpers::oauth::ClientSpec;

/// The `kid`s of instance `i`'s JWKS.
async fn jwks_kids(cluster: &Cluster, i: usize) -> Vec<String> {
    let jwks: Value = http()
        .get(cluster.url(i, "/oauth/jwks"))
        .send()
        .await
        .expect("JWKS")
        .json()
        .await
        .expect("JWKS JSON");
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect()
}

#[tokio::test]
async fn keys_rotated_by_the_command_line_reach_every_instance_and_old_tokens_stay_valid() {
    // Arrange: a token signed by the old key, which every instance takes.
    let cluster = Cluster::start().await;
    let service = cluster
        .setup
        .oauth_client(ClientSpec::default().grants(&["client_credentials"]))
        .await;
    let old_token = cluster.service_token(0, &service).await;
    let old_kid = kid_of(&old_token);
    for i in 0..cluster.size() {
        assert_eq!(cluster.bearer_status(i, &old_token).await, 200);
    }

    // Act
    let rotated_at = Instant::now();
    let rotated = run_json(
        cluster.dir.path(),
        &cluster.database_url,
        &["keys", "rotate", "--json"],
        "",
    );

    // Assert: every instance publishes every new key beside the old one,
    // and signs access tokens with the new ES256 key.
    let new_kids: Vec<String> = rotated
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect();
    let new_signer = rotated
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["algorithm"] == "ES256")
        .and_then(|k| k["kid"].as_str())
        .expect("a new ES256 key, which signs access tokens")
        .to_owned();
    let mut new_tokens = Vec::new();
    for i in 0..cluster.size() {
        wait_since(
            rotated_at,
            PROPAGATION + SLACK,
            &format!("{}'s JWKS lists the new keys", name(i)),
            || async {
                let kids = jwks_kids(&cluster, i).await;
                new_kids.iter().all(|k| kids.contains(k))
            },
        )
        .await;
        assert!(jwks_kids(&cluster, i).await.contains(&old_kid));
        let token = std::cell::RefCell::new(String::new());
        wait_since(
            rotated_at,
            PROPAGATION + SLACK,
            &format!("{} signs with the new key", name(i)),
            || async {
                let fresh = cluster.service_token(i, &service).await;
                let signed_by_new = kid_of(&fresh) == new_signer;
                token.replace(fresh);
                signed_by_new
            },
        )
        .await;
        new_tokens.push(token.into_inner());
    }
    for i in 0..cluster.size() {
        for (j, token) in new_tokens.iter().enumerate() {
            assert_eq!(
                cluster.bearer_status(i, token).await,
                200,
                "{} takes a token {} signed with the new key",
                name(i),
                name(j)
            );
        }
        assert_eq!(
            cluster.bearer_status(i, &old_token).await,
            200,
            "{} still takes the old key's token",
            name(i)
        );
    }
}
