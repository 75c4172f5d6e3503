//! An instance killed with SIGKILL in the middle of a load of writes
//! loses nothing it acknowledged and leaves no half-issued grant, and the
//! other instances serve throughout.

use std::cell::{Cell, RefCell};
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{Value, json};

use super::{Cluster, browser, field, http, name, wait_until};
use crate::helpers::oauth::{ClientSpec, REDIRECT_URI, TestClientApp, VERIFIER};

/// Concurrent clients writing to the instance that is killed.
const WRITERS: usize = 6;
/// The kill comes once this many posts were acknowledged.
const KILL_AFTER: usize = 24;
/// Codes issued beforehand, more than the writers redeem before the kill.
const CODES: usize = 40;
const SCOPE: &str = "blog:read blog:write";

/// What the writers share (one test thread: no locks needed).
#[derive(Default)]
struct Load {
    /// Codes still to redeem.
    codes: RefCell<Vec<String>>,
    /// Acknowledged posts: `(id, title)`.
    posts: RefCell<Vec<(String, String)>>,
    /// Acknowledged token answers.
    grants: RefCell<Vec<Value>>,
    /// Codes whose redemption got no answer: the instance died meanwhile.
    unanswered: RefCell<Vec<String>>,
    killed: Cell<bool>,
    writers_done: Cell<usize>,
}

struct Setup<'a> {
    cluster: &'a Cluster,
    victim: usize,
    key: &'a str,
    client: &'a TestClientApp,
    load: &'a Load,
}

impl Setup<'_> {
    /// Creates posts and redeems codes, in turns, at the victim until it
    /// stops answering. Anything but an acknowledgement before the kill
    /// fails the test.
    async fn writer(&self, k: usize) {
        let http = http();
        for n in 0.. {
            let title = format!("post {k}.{n}");
            let created = http
                .post(self.cluster.url(self.victim, "/api/v1/posts"))
                .header("X-API-Key", self.key)
                .json(&json!({"title": title, "body": "under load", "published": true}))
                .send()
                .await;
            match answer(created).await {
                Some((201, post)) => self
                    .load
                    .posts
                    .borrow_mut()
                    .push((field(&post, "id"), title)),
                Some((status, body)) => panic!("a post create answered {status}: {body}"),
                None => break,
            }
            let Some(code) = self.load.codes.borrow_mut().pop() else {
                continue;
            };
            let redeemed = http
                .post(self.cluster.url(self.victim, "/oauth/token"))
                .basic_auth(&self.client.client_id, self.client.secret.as_deref())
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", REDIRECT_URI),
                    ("code_verifier", VERIFIER),
                ])
                .send()
                .await;
            match answer(redeemed).await {
                Some((200, tokens)) => self.load.grants.borrow_mut().push(tokens),
                Some((status, body)) => panic!("a code redemption answered {status}: {body}"),
                None => {
                    self.load.unanswered.borrow_mut().push(code);
                    break;
                }
            }
        }
        assert!(self.load.killed.get(), "the victim failed before the kill");
        self.load.writers_done.set(self.load.writers_done.get() + 1);
    }

    async fn kill_once_loaded(&self) {
        wait_until(
            Duration::from_secs(60),
            "the victim acknowledges writes",
            || async { self.load.posts.borrow().len() >= KILL_AFTER },
        )
        .await;
        // Before the signal, so that no writer sees a failure unexplained.
        self.load.killed.set(true);
        self.cluster.nodes[self.victim].signal("KILL");
    }

    /// Reads at every other instance until the writers have all stopped,
    /// and a few rounds after the kill; every read must succeed.
    async fn watch_the_others(&self) {
        let mut rounds_after_kill = 0;
        while self.load.writers_done.get() < WRITERS || rounds_after_kill < 5 {
            if self.load.killed.get() {
                rounds_after_kill += 1;
            }
            for i in (0..self.cluster.size()).filter(|&i| i != self.victim) {
                assert_eq!(
                    self.cluster.api_key_status(i, self.key).await,
                    200,
                    "{} serves while another instance dies",
                    name(i)
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Status and JSON body, or `None` when no whole answer came.
async fn answer(sent: reqwest::Result<reqwest::Response>) -> Option<(u16, Value)> {
    let resp = sent.ok()?;
    let status = resp.status().as_u16();
    let body = resp.json().await.ok()?;
    Some((status, body))
}

#[tokio::test]
async fn killing_an_instance_mid_load_loses_no_acknowledged_write_and_leaves_no_half_issued_grant()
{
    // Arrange: codes issued at A, to be redeemed at the last instance.
    let mut cluster = Cluster::start().await;
    let victim = cluster.last();
    let alice = cluster.setup.user("alice").await;
    let key = cluster
        .setup
        .api_key(&alice, &["blog:read", "blog:write"])
        .await;
    let client = cluster
        .setup
        .oauth_client(ClientSpec::default().first_party())
        .await;
    let signed_in = browser();
    let load = Load::default();
    for _ in 0..CODES {
        let code = cluster.code_at(0, &signed_in, &client, &alice, SCOPE).await;
        load.codes.borrow_mut().push(code);
    }
    let setup = Setup {
        cluster: &cluster,
        victim,
        key: &key,
        client: &client,
        load: &load,
    };

    // Act
    tokio::join!(
        join_all((0..WRITERS).map(|k| setup.writer(k))),
        setup.kill_once_loaded(),
        setup.watch_the_others(),
    );

    // Assert: it died of the signal...
    let status = cluster.nodes[victim]
        .wait_for_exit(Duration::from_secs(10))
        .await;
    assert_eq!(status.signal(), Some(9), "{status}");
    let others: Vec<usize> = (0..cluster.size()).filter(|&i| i != victim).collect();
    let posts = load.posts.take();
    let grants = load.grants.take();
    assert!(posts.len() >= KILL_AFTER && !grants.is_empty());
    // ...every acknowledged post is there at every other instance...
    for &i in &others {
        for (id, title) in &posts {
            let resp = http()
                .get(cluster.url(i, &format!("/api/v1/posts/{id}")))
                .header("X-API-Key", &key)
                .send()
                .await
                .expect("read a post");
            assert_eq!(resp.status(), 200, "{} has post {id}", name(i));
            let post: Value = resp.json().await.expect("a post");
            assert_eq!(post["title"], title.as_str());
        }
    }
    // ...every acknowledged grant is whole: its access token is good and
    // its refresh token refreshes...
    for (n, tokens) in grants.iter().enumerate() {
        let i = others[n % others.len()];
        let access = field(tokens, "access_token");
        assert_eq!(cluster.bearer_status(i, &access).await, 200);
        let refresh = field(tokens, "refresh_token");
        let fields = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
        ];
        let (status, body) = cluster.token(i, &client, &fields).await;
        assert_eq!(
            status,
            200,
            "{} refreshes a grant the victim issued: {body}",
            name(i)
        );
    }
    // ...a code sent as it died was redeemed whole or not at all (then a
    // second redemption is refused as a replay), and one never sent is
    // still good.
    for code in load.unanswered.take() {
        let (status, body) = cluster.exchange(others[0], &client, &code).await;
        assert!(
            status == 200 || (status == 400 && body["error"] == "invalid_grant"),
            "{status} {body}"
        );
    }
    for code in load.codes.take() {
        let (status, body) = cluster.exchange(others[0], &client, &code).await;
        assert_eq!(status, 200, "{body}");
    }
    // ...and the others still take writes.
    for &i in &others {
        let created = http()
            .post(cluster.url(i, "/api/v1/posts"))
            .header("X-API-Key", &key)
            .json(&json!({"title": "after", "body": "the kill", "published": true}))
            .send()
            .await
            .expect("a post");
        assert_eq!(created.status(), 201);
    }
}
