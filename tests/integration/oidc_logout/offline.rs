//! Logging out leaves `offline_access` grants alone (OIDC Core §11):
//! the session's other grants lose their refresh and access tokens.

use serde_json::Value;

use super::support::*;
use crate::helpers::browser::Browser;
use crate::helpers::oauth::{ClientSpec, TestClientApp};
use crate::helpers::{TestApp, TestUser};
use crate::token::support::{
    assert_oauth_error, assert_revoked, field, list_posts, redeem, refresh,
};

/// A grant of `scope` made in the browser's session, redeemed.
async fn tokens(
    app: &TestApp,
    browser: &mut Browser,
    user: &TestUser,
    client: &TestClientApp,
    scope: &str,
) -> Value {
    let code = app.authorize_code(browser, user, client, scope).await;
    let (status, body) = redeem(app, client, &code).await;
    assert_eq!(status, 200, "{body}");
    let granted = field(&body, "scope")
        .split(' ')
        .any(|s| s == "offline_access");
    assert_eq!(granted, scope.contains("offline_access"), "{body}");
    body
}

#[tokio::test]
async fn an_offline_access_grant_outlives_the_logout_while_the_others_are_revoked() {
    // Arrange: one session, two grants: one online, one offline
    // (offline_access counts only beside openid).
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let client = app
        .oauth_client(
            ClientSpec::default()
                .scopes("blog:read openid offline_access")
                .post_logout_redirect_uris(&[SIGNED_OUT_URI]),
        )
        .await;
    let mut browser = Browser::new();
    let online = tokens(&app, &mut browser, &alice, &client, "openid blog:read").await;
    let offline = tokens(
        &app,
        &mut browser,
        &alice,
        &client,
        "openid blog:read offline_access",
    )
    .await;
    let hint = sign_hint(
        &app,
        &id_token_claims(&app, &alice, &client, &browser).await,
    );

    // Act
    let page = browser
        .get(
            &app,
            &logout_path(&[
                ("id_token_hint", &hint),
                ("post_logout_redirect_uri", SIGNED_OUT_URI),
            ]),
        )
        .await;

    // Assert
    assert_eq!(page.status, 303, "{}", page.body);
    assert!(session_of(&app, &browser).await.is_none());
    let (status, body) = refresh(&app, &client, field(&online, "refresh_token"), None).await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
    assert_revoked(&app, field(&online, "access_token")).await;
    let (status, body) = list_posts(&app, field(&offline, "access_token")).await;
    assert_eq!(
        status, 200,
        "the offline grant's access token works: {body}"
    );
    let (status, refreshed) = refresh(&app, &client, field(&offline, "refresh_token"), None).await;
    assert_eq!(status, 200, "the offline refresh token works: {refreshed}");
    let (status, body) = list_posts(&app, field(&refreshed, "access_token")).await;
    assert_eq!(status, 200, "{body}");
}
