//! The denylist's sync between instances.

use chrono::TimeDelta;
use sea_orm::{ActiveModelTrait, Set};
use tollgate::auth::revocations::Denylist;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_revocation_committed_out_of_sequence_order_is_still_seen() {
    // Arrange: another instance has seen up to seq 10.
    let app = TestApp::spawn().await;
    let now = app.clock().now();
    let later = now + TimeDelta::minutes(15);
    let insert = |seq: i64, target: &'static str| {
        let db = app.state.db.clone();
        async move {
            entity::token_revocation::ActiveModel {
                seq: Set(seq),
                target: Set(target.to_owned()),
                created_at: Set(now),
                expires_at: Set(later),
            }
            .insert(&db)
            .await
            .unwrap();
        }
    };
    insert(10, "jti-ten").await;
    let peer = Denylist::load(&app.state.db, now).await.unwrap();
    assert!(peer.is_revoked("jti-ten"));

    // Act: a row with a lower seq commits afterwards (as PostgreSQL allows
    // when two transactions race).
    insert(5, "jti-five").await;
    peer.sync(&app.state.db, now).await.unwrap();

    // Assert
    assert!(peer.is_revoked("jti-five"));
    assert!(!peer.is_revoked("jti-other"));
}

#[tokio::test]
async fn expired_revocations_are_forgotten() {
    let app = TestApp::spawn().await;
    let now = app.clock().now();
    app.state
        .denylist
        .revoke(
            &app.state.db,
            "jti-short",
            now + TimeDelta::seconds(30),
            now,
        )
        .await
        .unwrap();
    assert!(app.state.denylist.is_revoked("jti-short"));
    app.state
        .denylist
        .sync(&app.state.db, now + TimeDelta::seconds(31))
        .await
        .unwrap();
    assert!(!app.state.denylist.is_revoked("jti-short"));
}
