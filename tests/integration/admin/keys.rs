//! Signing keys: list and rotate.

use poem::http::Method;

use super::Admin;
use crate::helpers::json;

async fn jwks_kids(admin: &Admin) -> Vec<String> {
    let jwks = json(admin.app.client.get("/oauth/jwks").send().await).await;
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn keys_are_listed_without_key_material() {
    // Arrange
    let admin = Admin::spawn().await;

    // Act
    let keys = admin.ok(Method::GET, "/admin/v1/keys", None, 200).await;

    // Assert
    let keys = keys.as_array().unwrap();
    let mut algs: Vec<&str> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
    algs.sort_unstable();
    assert_eq!(algs, ["ES256", "RS256"]);
    for k in keys {
        assert_eq!(k["current"], true);
        assert_eq!(k["published"], true);
        assert!(k["retired_at"].is_null());
        let text = k.to_string();
        assert!(
            !text.contains("private") && !text.contains("public_key"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn rotating_serves_a_new_kid_in_the_jwks_at_once_and_retires_the_old_keys() {
    // Arrange
    let admin = Admin::spawn().await;
    let before = jwks_kids(&admin).await;

    // Act
    let rotated = admin
        .ok(Method::POST, "/admin/v1/keys/rotate", None, 201)
        .await;

    // Assert
    let new: Vec<String> = rotated
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(new.len(), 2, "one of each kind: {rotated}");
    let after = jwks_kids(&admin).await;
    for kid in &new {
        assert!(!before.contains(kid), "{kid} is new");
        assert!(after.contains(kid), "{kid} is served at once: {after:?}");
    }
    for kid in &before {
        assert!(after.contains(kid), "old {kid} stays published");
    }
    let keys = admin.ok(Method::GET, "/admin/v1/keys", None, 200).await;
    let keys = keys.as_array().unwrap();
    assert_eq!(keys.len(), 4);
    for k in keys {
        let is_new = new.iter().any(|n| n == k["kid"].as_str().unwrap());
        assert_eq!(k["current"], is_new, "{k}");
        assert_eq!(k["retired_at"].is_string(), !is_new, "{k}");
    }
}
