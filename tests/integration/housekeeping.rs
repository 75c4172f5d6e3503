//! Housekeeping (`tollgate gc` and the servers' background task): expired
//! rows go, live ones stay; a replay adds no row; the revocation poll
//! uses an index; one instance at a time on PostgreSQL.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use clap::Parser;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::Value;
use tollgate::cli::{self, Cli};
use tollgate::db::{Lock, try_lock};
use tollgate::housekeeping::{self, Deleted, Outcome};
use tollgate::store;
use uuid::Uuid;

use crate::helpers::browser::Browser;
use crate::helpers::oauth::{ClientSpec, REDIRECT_URI, TestClientApp, VERIFIER};
use crate::helpers::{TestApp, TestUser};

const TABLES: [&str; 4] = [
    "authorization_codes",
    "browser_sessions",
    "refresh_tokens",
    "token_revocations",
];

async fn count(db: &impl ConnectionTrait, table: &str) -> u64 {
    let stmt = Statement::from_string(
        db.get_database_backend(),
        format!("SELECT COUNT(*) AS n FROM {table}"),
    );
    let row = db.query_one_raw(stmt).await.unwrap().expect("a row");
    u64::try_from(row.try_get::<i64>("", "n").unwrap()).unwrap()
}

async fn counts(app: &TestApp) -> [u64; 4] {
    let mut out = [0; 4];
    for (i, table) in TABLES.iter().enumerate() {
        out[i] = count(&app.state.db, table).await;
    }
    out
}

fn as_counts(d: &Deleted) -> [u64; 4] {
    [
        d.authorization_codes,
        d.browser_sessions,
        d.refresh_tokens,
        d.token_revocations,
    ]
}

/// Runs `tollgate --database-url <app's> gc [extra]` in-process.
async fn gc_with_the_cli(app: &TestApp, extra: &[&str]) -> String {
    let mut args = vec![
        "tollgate",
        "--database-url",
        app.database_url.as_str(),
        "gc",
    ];
    args.extend_from_slice(extra);
    let cli = Cli::try_parse_from(args).expect("arguments parse");
    let mut input = std::io::Cursor::new(Vec::new());
    let mut out = Vec::new();
    cli::run(cli, &mut input, &mut out)
        .await
        .expect("gc succeeds");
    String::from_utf8(out).unwrap()
}

async fn redeem(app: &TestApp, client: &TestClientApp, code: &str) -> (u16, Value) {
    app.token_basic(
        client,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
}

/// What one person leaves behind: a session, a redeemed code with its
/// refresh token, a replayed code (its grant revoked), and a code never
/// redeemed. Returns the live refresh token.
async fn leave_rows(app: &TestApp, user: &TestUser, client: &TestClientApp) -> String {
    let mut browser = Browser::new();
    let code = app
        .authorize_code(&mut browser, user, client, "blog:read")
        .await;
    let (status, tokens) = redeem(app, client, &code).await;
    assert_eq!(status, 200, "{tokens}");
    let replayed = app
        .authorize_code(&mut browser, user, client, "blog:read")
        .await;
    assert_eq!(redeem(app, client, &replayed).await.0, 200);
    assert_eq!(redeem(app, client, &replayed).await.0, 400);
    app.authorize_code(&mut browser, user, client, "blog:read")
        .await;
    tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned()
}

#[tokio::test]
async fn housekeeping_deletes_what_expired_and_keeps_what_is_live() {
    // Arrange: alice's rows, then a month and more later bob's.
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let alice = app.user("alice").await;
    leave_rows(&app, &alice, &client).await;
    let old = counts(&app).await;
    tollgate::secrets::signing_keys::rotate(&app.state.db, None, app.clock().now())
        .await
        .unwrap();
    let settings = &app.state.settings;
    let longest = settings.refresh_token_ttl + settings.access_token_ttl;
    app.clock()
        .advance(longest.to_std().unwrap() + Duration::from_secs(120));
    let bob = app.user("bob").await;
    let bobs_refresh = leave_rows(&app, &bob, &client).await;
    let all = counts(&app).await;
    let fresh: Vec<u64> = all.iter().zip(old).map(|(a, o)| a - o).collect();
    assert!(old.iter().all(|n| *n > 0), "{old:?}");

    // Act
    let outcome = housekeeping::run_once(&app.state.db, settings, app.clock().now())
        .await
        .unwrap();

    // Assert: alice's rows and the retired key's private half went; bob's stayed.
    let Outcome::Ran(deleted) = outcome else {
        panic!("skipped")
    };
    assert_eq!(as_counts(&deleted), old, "{deleted:?}");
    // One retired key of each kind, ES256 and RS256.
    assert_eq!(deleted.signing_key_private_halves, 2);
    assert_eq!(counts(&app).await.to_vec(), fresh);
    // Bob's refresh token still works, and his revoked grant stays revoked.
    let (status, body) = app
        .token_basic(
            &client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &bobs_refresh),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_redeemed_code_outlives_its_expiry_by_an_access_token_lifetime() {
    // Arrange: a redeemed code, whose replay must still revoke its grant.
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let alice = app.user("alice").await;
    let mut browser = Browser::new();
    let code = app
        .authorize_code(&mut browser, &alice, &client, "blog:read")
        .await;
    assert_eq!(redeem(&app, &client, &code).await.0, 200);
    let settings = &app.state.settings;
    let codes_after = |deleted: Deleted| deleted.authorization_codes;

    // Act: past the code's expiry, then past one access token lifetime more.
    app.clock().advance(Duration::from_secs(120));
    let early = housekeeping::run_once(&app.state.db, settings, app.clock().now())
        .await
        .unwrap();
    app.clock()
        .advance(settings.access_token_ttl.to_std().unwrap());
    let late = housekeeping::run_once(&app.state.db, settings, app.clock().now())
        .await
        .unwrap();

    // Assert
    assert_eq!(early, Outcome::Ran(Deleted::default()));
    let Outcome::Ran(late) = late else {
        panic!("skipped")
    };
    assert_eq!(codes_after(late), 1);
}

/// A row of each kind, expiring at `expires_at`, made with the store
/// functions the server uses.
async fn insert_rows(
    app: &TestApp,
    tag: &str,
    user_id: Uuid,
    client_id: &str,
    expires_at: DateTime<Utc>,
) {
    let db = &app.state.db;
    let created_at = expires_at - TimeDelta::minutes(1);
    store::codes::insert(
        db,
        entity::authorization_code::Model {
            code_hash: format!("code-{tag}"),
            grant_id: Uuid::new_v4(),
            client_id: client_id.to_owned(),
            user_id,
            redirect_uri: None,
            code_challenge: None,
            scopes: "blog:read".to_owned(),
            created_at,
            expires_at,
            redeemed_at: None,
            session_hash: None,
            nonce: None,
            auth_time: None,
            sid: None,
        },
    )
    .await
    .unwrap();
    store::sessions::insert(
        db,
        entity::browser_session::Model {
            id_hash: format!("session-{tag}"),
            user_id,
            csrf_token: "csrf".to_owned(),
            created_at,
            expires_at,
            sid: format!("sid-{tag}"),
            auth_time: created_at,
            user_agent: None,
            last_seen_at: created_at,
        },
    )
    .await
    .unwrap();
    store::refresh_tokens::insert(
        db,
        entity::refresh_token::Model {
            token_hash: format!("refresh-{tag}"),
            grant_id: Uuid::new_v4(),
            client_id: client_id.to_owned(),
            user_id: Some(user_id),
            scopes: "blog:read".to_owned(),
            created_at,
            expires_at,
            used_at: None,
            revoked_at: None,
            session_hash: None,
            auth_time: None,
            sid: None,
        },
    )
    .await
    .unwrap();
    // Revocation rows stay one refresh token lifetime past their expiry.
    let revocation_expiry = expires_at - app.state.settings.refresh_token_ttl;
    store::revocations::insert(db, &format!("jti-{tag}"), revocation_expiry, created_at)
        .await
        .unwrap();
}

#[tokio::test]
async fn tollgate_gc_deletes_expired_rows_keeps_live_ones_and_reports_them() {
    // Arrange: `gc` runs on the real clock, so the rows are dated from it.
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;
    app.user("alice").await;
    let alice = store::users::find_by_username(&app.state.db, "alice")
        .await
        .unwrap()
        .expect("alice");
    let now = Utc::now();
    insert_rows(
        &app,
        "old",
        alice.id,
        &client.client_id,
        now - TimeDelta::hours(1),
    )
    .await;
    insert_rows(
        &app,
        "live",
        alice.id,
        &client.client_id,
        now + TimeDelta::hours(1),
    )
    .await;

    // Act
    let printed = gc_with_the_cli(&app, &["--json"]).await;
    let again = gc_with_the_cli(&app, &[]).await;

    // Assert
    let report: Value = serde_json::from_str(&printed).expect("one JSON object");
    assert_eq!(report["skipped"], false, "{report}");
    for table in TABLES {
        assert_eq!(report["deleted"][table], 1, "{table}: {report}");
    }
    assert_eq!(report["deleted"]["signing_key_private_halves"], 0);
    assert_eq!(counts(&app).await, [1; 4]);
    let db = &app.state.db;
    assert!(store::codes::find(db, "code-live").await.unwrap().is_some());
    assert!(
        store::sessions::find(db, "session-live")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store::refresh_tokens::find(db, "refresh-live")
            .await
            .unwrap()
            .is_some()
    );
    assert!(store::revocations::exists(db, "jti-live").await.unwrap());
    assert!(!store::revocations::exists(db, "jti-old").await.unwrap());
    // The text form names each table; nothing was left to delete.
    assert!(again.contains("authorization_codes: 0 deleted"), "{again}");
    assert!(again.contains("token_revocations: 0 deleted"), "{again}");
}

#[tokio::test]
async fn replaying_a_spent_code_adds_no_revocation_row_per_attempt() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let alice = app.user("alice").await;
    let mut browser = Browser::new();
    let code = app
        .authorize_code(&mut browser, &alice, &client, "blog:read")
        .await;
    assert_eq!(redeem(&app, &client, &code).await.0, 200);
    let before = count(&app.state.db, "token_revocations").await;

    // Act
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(redeem(&app, &client, &code).await.0);
    }

    // Assert: every replay refused, one row for the grant.
    assert_eq!(statuses, [400; 5]);
    assert_eq!(count(&app.state.db, "token_revocations").await, before + 1);
}

#[tokio::test]
async fn the_revocation_poll_searches_indexes_instead_of_scanning() {
    // Arrange
    let app = TestApp::spawn().await;
    let db = &app.state.db;
    let query = store::revocations::since_query(42, app.clock().now());
    let stmt = sea_orm::QueryTrait::build(&query, db.get_database_backend());

    // Act
    let plan = match db.get_database_backend() {
        DbBackend::Sqlite => {
            let explain = Statement {
                sql: format!("EXPLAIN QUERY PLAN {}", stmt.sql),
                ..stmt
            };
            let rows = db.query_all_raw(explain).await.unwrap();
            rows.iter()
                .map(|r| r.try_get::<String>("", "detail").unwrap())
                .collect::<Vec<_>>()
        }
        _ => {
            // An empty table is cheapest to scan, so forbid that where
            // an index can serve: a scan left in the plan means none can.
            let txn = sea_orm::TransactionTrait::begin(db).await.unwrap();
            txn.execute_unprepared("SET LOCAL enable_seqscan = off")
                .await
                .unwrap();
            let explain = Statement {
                sql: format!("EXPLAIN {}", stmt.sql),
                ..stmt
            };
            let rows = txn.query_all_raw(explain).await.unwrap();
            rows.iter()
                .map(|r| r.try_get::<String>("", "QUERY PLAN").unwrap())
                .collect::<Vec<_>>()
        }
    };

    // Assert
    let plan = plan.join("\n");
    assert!(plan.contains("idx_token_revocations_created_at"), "{plan}");
    assert!(!plan.contains("SCAN token_revocations"), "{plan}");
    assert!(!plan.contains("Seq Scan"), "{plan}");
}

#[tokio::test]
async fn gc_skips_while_another_instance_holds_the_housekeeping_lock() {
    // Arrange: an expired session, and another instance (its own
    // connection pool) in the middle of housekeeping.
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;
    app.user("alice").await;
    let alice = store::users::find_by_username(&app.state.db, "alice")
        .await
        .unwrap()
        .expect("alice");
    insert_rows(
        &app,
        "old",
        alice.id,
        &client.client_id,
        Utc::now() - TimeDelta::hours(1),
    )
    .await;
    let other = tollgate::db::open(&app.database_url).await.unwrap();
    let postgres = other.get_database_backend() == DbBackend::Postgres;
    let held = try_lock(&other, Lock::Housekeeping)
        .await
        .unwrap()
        .expect("the first taker gets it");

    // Act
    let during: Value = serde_json::from_str(&gc_with_the_cli(&app, &["--json"]).await).unwrap();
    held.release().await.unwrap();
    let after: Value = serde_json::from_str(&gc_with_the_cli(&app, &["--json"]).await).unwrap();

    // Assert: on PostgreSQL the second instance skips and leaves the rows;
    // on SQLite one process serves the file and takes no lock.
    let deleted_sessions = |v: &Value| v["deleted"]["browser_sessions"].as_u64().unwrap();
    if postgres {
        assert_eq!(during["skipped"], true, "{during}");
        assert_eq!(deleted_sessions(&during), 0);
        assert_eq!(after["skipped"], false, "{after}");
        assert_eq!(deleted_sessions(&after), 1);
    } else {
        assert_eq!(during["skipped"], false, "{during}");
        assert_eq!(deleted_sessions(&during), 1);
    }
    assert_eq!(count(&app.state.db, "browser_sessions").await, 0);
}

#[tokio::test]
async fn rows_deleted_are_counted_by_table_in_the_metrics() {
    // Arrange
    let app = TestApp::spawn().await;
    let client = app.oauth_client(ClientSpec::default()).await;
    let alice = app.user("alice").await;
    let mut browser = Browser::new();
    app.authorize_code(&mut browser, &alice, &client, "blog:read")
        .await;
    app.clock().advance(Duration::from_secs(13 * 3600));

    // Act
    housekeeping::run_and_record(&app.state).await.unwrap();

    // Assert
    let text = app
        .client
        .get("/metrics")
        .send()
        .await
        .0
        .into_body()
        .into_string()
        .await
        .unwrap();
    let line = |table: &str, n: u64| {
        format!("tollgate_housekeeping_deleted_rows_total{{table=\"{table}\"}} {n}")
    };
    assert!(text.contains(&line("authorization_codes", 1)), "{text}");
    assert!(text.contains(&line("browser_sessions", 1)), "{text}");
    assert!(text.contains(&line("refresh_tokens", 0)), "{text}");
}

#[tokio::test]
async fn the_migration_folds_duplicate_revocations_into_one_row_per_target() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{ActiveModelTrait, EntityTrait, NotSet, QueryOrder, Set};

    // Arrange: the schema before the unique target, with a spent code
    // replayed three times (three rows, as before the fix).
    let dir = tempfile::tempdir().unwrap();
    let url = crate::helpers::fresh_database_url(dir.path()).await;
    let db = tollgate::db::connect(&url).await.unwrap();
    let before_this = Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261201_000008_housekeeping_indexes")
        .expect("the migration is registered");
    Migrator::up(&db, Some(u32::try_from(before_this).unwrap()))
        .await
        .unwrap();
    let t0 = tollgate::clock::Clock::default().now();
    for (target, minutes) in [
        ("grant-a", 15),
        ("grant-a", 45),
        ("grant-a", 30),
        ("grant-b", 15),
    ] {
        entity::token_revocation::ActiveModel {
            seq: NotSet,
            target: Set(target.to_owned()),
            created_at: Set(t0),
            expires_at: Set(t0 + TimeDelta::minutes(minutes)),
        }
        .insert(&db)
        .await
        .unwrap();
    }

    // Act
    tollgate::db::migrate(&db).await.unwrap();
    let again = store::revocations::insert(&db, "grant-a", t0, t0)
        .await
        .unwrap();

    // Assert: the first row of each target stays, with the latest expiry.
    let rows = entity::token_revocation::Entity::find()
        .order_by_asc(entity::token_revocation::Column::Seq)
        .all(&db)
        .await
        .unwrap();
    let kept: Vec<_> = rows
        .iter()
        .map(|r| (r.seq, r.target.as_str(), r.expires_at))
        .collect();
    assert_eq!(
        kept,
        [
            (1, "grant-a", t0 + TimeDelta::minutes(45)),
            (4, "grant-b", t0 + TimeDelta::minutes(15)),
        ]
    );
    assert!(!again, "a second revocation of a target adds nothing");
}

#[tokio::test]
async fn of_instances_due_to_run_housekeeping_one_runs_per_interval_and_the_others_skip() {
    // Arrange: one database; each instance's scheduled round as of a moment.
    let app = TestApp::spawn().await;
    let (db, settings) = (&app.state.db, &app.state.settings);
    let every = TimeDelta::from_std(settings.gc_interval).unwrap();
    let start = app.clock().now();
    let round = |holder: &'static str, at: DateTime<Utc>| async move {
        housekeeping::run_if_due(db, settings, holder, at)
            .await
            .unwrap()
    };

    // Act and assert: A takes the first round; B and C, due a little
    // later, skip; after an interval the lease is free for whoever comes.
    assert!(matches!(round("a", start).await, Outcome::Ran(_)));
    assert_eq!(round("b", start).await, Outcome::Skipped);
    assert_eq!(round("c", start + every / 2).await, Outcome::Skipped);
    assert!(matches!(round("b", start + every).await, Outcome::Ran(_)));
    assert_eq!(round("a", start + every).await, Outcome::Skipped);
    let holder: Option<String> = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT holder FROM leases WHERE name = 'housekeeping'",
        ))
        .await
        .unwrap()
        .map(|row| row.try_get("", "holder").unwrap());
    assert_eq!(holder.as_deref(), Some("b"));
}

#[tokio::test]
async fn a_scheduled_round_is_counted_as_ran_or_skipped_in_the_metrics() {
    // Arrange: two instances' states on one database.
    let app = TestApp::spawn().await;
    let other = tollgate::state::AppState::build(
        app.state.db.clone(),
        (*app.state.settings).clone(),
        app.clock().clone(),
    )
    .await
    .unwrap();

    // Act
    let first = housekeeping::run_and_record(&app.state).await.unwrap();
    let second = housekeeping::run_and_record(&other).await.unwrap();

    // Assert
    assert!(matches!(first, Outcome::Ran(_)), "{first:?}");
    assert_eq!(second, Outcome::Skipped);
    let line = |state: &tollgate::state::AppState, outcome: &str| {
        let text = state.metrics.render().unwrap();
        let prefix = format!("tollgate_housekeeping_runs_total{{outcome=\"{outcome}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
            .unwrap_or_else(|| panic!("no {prefix} in {text}"))
    };
    assert_eq!(
        (line(&app.state, "ran"), line(&app.state, "skipped")),
        ("1".into(), "0".into())
    );
    assert_eq!(
        (line(&other, "ran"), line(&other, "skipped")),
        ("0".into(), "1".into())
    );
}
