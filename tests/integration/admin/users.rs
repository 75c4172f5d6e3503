//! Users: create, read, page, change, disable, enable, reset, delete.

use poem::http::Method;
use serde_json::json;

use super::{Admin, blog_status, id_of};
use crate::helpers::assert_problem;
use crate::helpers::oauth::ClientSpec;
use crate::token::support::{field, refresh};

#[tokio::test]
async fn a_user_is_created_read_and_changed() {
    // Arrange
    let admin = Admin::spawn().await;
    let input = json!({
        "username": "alice", "password": "correct horse", "name": "Alice",
        "email": "alice@example.com", "email_verified": true
    });

    // Act
    let resp = admin
        .call(Method::POST, "/admin/v1/users", Some(input))
        .await;

    // Assert
    resp.assert_status(poem::http::StatusCode::CREATED);
    let location = resp.0.headers()["location"].to_str().unwrap().to_owned();
    let created = super::body(resp).await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(location, format!("/admin/v1/users/{id}"));
    assert_eq!(created["username"], "alice");
    assert_eq!(created["email_verified"], true);
    assert_eq!(created["disabled"], false);
    assert!(created["disabled_at"].is_null());
    assert!(created.get("password").is_none() && created.get("password_hash").is_none());
    let got = admin.ok(Method::GET, &location, None, 200).await;
    assert_eq!(got, created);

    let changed = admin
        .ok(
            Method::PATCH,
            &location,
            Some(json!({"name": null, "email": "a@example.org"})),
            200,
        )
        .await;
    assert!(changed["name"].is_null(), "{changed}");
    assert_eq!(changed["email"], "a@example.org");
    assert_eq!(
        changed["email_verified"], false,
        "a new email is unverified"
    );
    let unchanged = admin
        .ok(Method::PATCH, &location, Some(json!({})), 200)
        .await;
    assert_eq!(unchanged["email"], "a@example.org");
}

#[tokio::test]
async fn users_are_listed_in_pages_by_username() {
    // Arrange
    let admin = Admin::spawn().await;
    for name in ["carol", "Bob", "alice"] {
        admin.create_user(name).await;
    }

    // Act
    let mut seen = Vec::new();
    let mut path = "/admin/v1/users?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let page = admin.ok(Method::GET, &path, None, 200).await;
        pages += 1;
        for u in page["items"].as_array().unwrap() {
            seen.push(u["username"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/admin/v1/users?limit=2&cursor={c}"),
            None => {
                assert!(page["next_cursor"].is_null(), "{page}");
                break;
            }
        }
    }

    // Assert
    assert_eq!(seen, ["alice", "Bob", "carol", "root"]);
    assert_eq!(pages, 2);
    let resp = admin
        .call(Method::GET, "/admin/v1/users?limit=0", None)
        .await;
    assert_problem(resp, 400, "limit").await;
}

#[tokio::test]
async fn bad_user_input_gets_problems_that_say_what_is_wrong() {
    // Arrange
    let admin = Admin::spawn().await;
    admin.create_user("alice").await;
    let cases = [
        (
            json!({"username": "ALICE", "password": "long enough pass"}),
            409,
            "already taken",
        ),
        (
            json!({"username": "bob", "password": "short"}),
            422,
            "at least 12",
        ),
        (
            json!({"username": "bo b", "password": "long enough pass"}),
            422,
            "username",
        ),
        (
            json!({"username": "bob", "password": "long enough pass", "email": "nope"}),
            422,
            "email",
        ),
        (json!({"username": "bob"}), 400, "payload"),
    ];
    for (input, status, needle) in cases {
        // Act
        let resp = admin
            .call(Method::POST, "/admin/v1/users", Some(input))
            .await;

        // Assert
        assert_problem(resp, status, needle).await;
    }
    let resp = admin
        .app
        .client
        .post("/admin/v1/users")
        .header("X-API-Key", &admin.key)
        .content_type("application/json")
        .body("{not json")
        .send()
        .await;
    assert_problem(resp, 400, "").await;
    let resp = admin
        .call(Method::GET, "/admin/v1/users/not-a-uuid", None)
        .await;
    assert_problem(resp, 400, "id").await;
    let resp = admin
        .call(
            Method::GET,
            "/admin/v1/users/00000000-0000-4000-8000-000000000000",
            None,
        )
        .await;
    assert_problem(resp, 404, "no user").await;
}

#[tokio::test]
async fn disabling_a_user_ends_their_session_and_their_tokens_fail_until_enabled() {
    // Arrange
    let admin = Admin::spawn().await;
    let alice = admin.app.user("alice").await;
    let alice_id = id_of(&admin.app, &alice).await;
    let client = admin.app.oauth_client(ClientSpec::default()).await;
    let tokens = admin.app.tokens_for(&alice, &client, "blog:read").await;
    let key = admin.app.api_key(&alice, &["blog:read"]).await;

    // Act
    let disabled = admin
        .ok(
            Method::POST,
            &format!("/admin/v1/users/{alice_id}/disable"),
            None,
            200,
        )
        .await;

    // Assert
    assert_eq!(disabled["disabled"], true);
    assert!(disabled["disabled_at"].is_string());
    let sessions = admin
        .ok(
            Method::GET,
            &format!("/admin/v1/users/{alice_id}/sessions"),
            None,
            200,
        )
        .await;
    assert_eq!(sessions, json!([]));
    assert_eq!(
        blog_status(&admin.app, field(&tokens, "access_token")).await,
        401
    );
    let (status, body) = refresh(&admin.app, &client, field(&tokens, "refresh_token"), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let resp = admin
        .app
        .client
        .get("/api/v1/posts")
        .header("X-API-Key", &key)
        .send()
        .await;
    assert_problem(resp, 401, "disabled").await;

    let enabled = admin
        .ok(
            Method::POST,
            &format!("/admin/v1/users/{alice_id}/enable"),
            None,
            200,
        )
        .await;
    assert_eq!(enabled["disabled"], false);
    assert!(enabled["disabled_at"].is_null());
    let fresh = admin.app.tokens_for(&alice, &client, "blog:read").await;
    assert_eq!(
        blog_status(&admin.app, field(&fresh, "access_token")).await,
        200
    );
}

#[tokio::test]
async fn setting_a_password_ends_the_users_sessions_and_checks_the_policy() {
    // Arrange
    let admin = Admin::spawn().await;
    let alice = admin.app.user("alice").await;
    let alice_id = id_of(&admin.app, &alice).await;
    let client = admin.app.oauth_client(ClientSpec::default()).await;
    let tokens = admin.app.tokens_for(&alice, &client, "blog:read").await;
    let path = format!("/admin/v1/users/{alice_id}/password");

    // Act
    let resp = admin
        .call(Method::PUT, &path, Some(json!({"password": "short"})))
        .await;
    assert_problem(resp, 422, "at least 12").await;
    admin
        .ok(
            Method::PUT,
            &path,
            Some(json!({"password": "a brand new secret"})),
            204,
        )
        .await;

    // Assert
    let sessions = admin
        .ok(
            Method::GET,
            &format!("/admin/v1/users/{alice_id}/sessions"),
            None,
            200,
        )
        .await;
    assert_eq!(sessions, json!([]));
    let (status, _) = refresh(&admin.app, &client, field(&tokens, "refresh_token"), None).await;
    assert_eq!(status, 400);
    let user = tollgate::store::users::find_by_username(&admin.app.state.db, "alice")
        .await
        .unwrap()
        .unwrap();
    let verified = admin
        .app
        .state
        .passwords
        .verify(
            tollgate::secrets::SecretString::new("a brand new secret".to_owned()),
            Some(user.password_hash),
        )
        .await
        .unwrap();
    assert!(verified, "the new password works");
}

#[tokio::test]
async fn deleting_a_user_removes_them_and_refuses_their_tokens() {
    // Arrange
    let admin = Admin::spawn().await;
    let alice = admin.app.user("alice").await;
    let alice_id = id_of(&admin.app, &alice).await;
    let client = admin.app.oauth_client(ClientSpec::default()).await;
    let tokens = admin.app.tokens_for(&alice, &client, "blog:read").await;
    let path = format!("/admin/v1/users/{alice_id}");

    // Act
    admin.ok(Method::DELETE, &path, None, 204).await;

    // Assert
    assert_problem(admin.call(Method::GET, &path, None).await, 404, "no user").await;
    assert_problem(
        admin.call(Method::DELETE, &path, None).await,
        404,
        "no user",
    )
    .await;
    assert_eq!(
        blog_status(&admin.app, field(&tokens, "access_token")).await,
        401
    );
}
