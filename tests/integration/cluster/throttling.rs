//! Login throttling holds across the cluster: failed sign-ins spread over
//! the instances add up, and the lock they earn is seen at every instance.

use reqwest::StatusCode;

use super::{Cluster, authorize_path, browser, name, submit};
use crate::helpers::browser::Page;
use crate::helpers::oauth::{ClientSpec, REDIRECT_URI, TestClientApp};

const FAILED: &str = "Invalid username or password.";
const LOCKED: &str = "Too many failed sign-ins.";
/// `login_max_failures`'s default.
const MAX_FAILURES: usize = 5;

/// A sign-in as `username` with `password` on a fresh login page of
/// instance `i`, in a browser that never signed in (a known browser is
/// not held by the account's lock).
async fn sign_in(
    cluster: &Cluster,
    i: usize,
    client: &TestClientApp,
    username: &str,
    password: &str,
) -> Page {
    let browser = browser();
    let url = cluster.url(
        i,
        &authorize_path(&client.client_id, REDIRECT_URI, "blog:read"),
    );
    let form = Page::read(browser.get(url).send().await.expect("authorize")).await;
    assert!(form.is_login_form(), "{}", form.body);
    let credentials = [("username", username), ("password", password)];
    submit(&browser, &cluster.nodes[i].base, &form, &credentials).await
}

#[tokio::test]
async fn failed_sign_ins_spread_over_the_instances_add_up_to_a_lock_seen_at_every_instance() {
    // Arrange
    let cluster = Cluster::start().await;
    let alice = cluster.setup.user("alice").await;
    let client = cluster
        .setup
        .oauth_client(ClientSpec::default().first_party())
        .await;

    // Act: the failures taken in turns, so that no instance sees as many
    // as the threshold itself.
    for k in 0..MAX_FAILURES {
        let i = k % cluster.size();
        let page = sign_in(&cluster, i, &client, "alice", "wrong-password").await;
        assert!(
            page.body.contains(FAILED),
            "failure {} at {}: {}",
            k + 1,
            name(i),
            page.body
        );
    }

    // Assert: the right password is refused everywhere for now.
    for i in 0..cluster.size() {
        let page = sign_in(&cluster, i, &client, "alice", &alice.password).await;
        assert_eq!(
            page.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{} holds the lock: {}",
            name(i),
            page.body
        );
        assert!(page.body.contains(LOCKED), "{}", page.body);
    }
}
