//! Health, readiness and metrics.

use crate::helpers::TestApp;

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::spawn().await;
    app.client
        .get("/healthz")
        .send()
        .await
        .assert_text("ok")
        .await;
    app.client
        .get("/readyz")
        .send()
        .await
        .assert_text("ready")
        .await;
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.state.db.close_by_ref().await.unwrap();
    let resp = app.client.get("/readyz").send().await;
    resp.assert_status(poem::http::StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = TestApp::spawn().await;
    app.client
        .get("/api/v1/posts")
        .send()
        .await
        .assert_status(poem::http::StatusCode::UNAUTHORIZED);
    app.client
        .get("/healthz")
        .send()
        .await
        .assert_status_is_ok();

    let resp = app.client.get("/metrics").send().await;
    resp.assert_status_is_ok();
    let text = resp.0.into_body().into_string().await.unwrap();
    assert!(
        text.contains(
            r#"tollgate_http_requests_total{method="GET",route="list_posts",status="401"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"tollgate_http_requests_total{method="GET",route="/healthz",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains("tollgate_http_request_duration_seconds_bucket"));
}
