//! Issue 11 item 4: the messages a newcomer meets on the command line, as
//! the real binary prints them, each once and saying what to do.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Output;
use std::time::{Duration, Instant};

use crate::helpers::binary::{Server, run, tollgate};
use crate::helpers::fresh_database_url;

fn stderr(out: &Output) -> String {
    assert!(!out.status.success(), "the command should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn a_validation_error_is_printed_once() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;

    // Act
    let short = run(
        dir.path(),
        &url,
        &["user", "create", "bob", "--password-stdin"],
        "short\n",
    );
    run(
        dir.path(),
        &url,
        &["user", "create", "alice", "--password-stdin"],
        "a long enough password\n",
    );
    let scope = run(
        dir.path(),
        &url,
        &[
            "api-key",
            "create",
            "--name",
            "k",
            "--owner",
            "alice",
            "--scope",
            "blog:reed",
        ],
        "",
    );

    // Assert: the whole of stderr, so a repeated cause cannot hide.
    assert_eq!(
        stderr(&short),
        "error: password must be at least 12 characters\n"
    );
    let scope = stderr(&scope);
    assert!(
        scope.starts_with("error: unknown scope 'blog:reed' (known: "),
        "{scope}"
    );
    assert_eq!(scope.matches("blog:reed").count(), 1, "{scope}");
    assert_eq!(scope.lines().count(), 1, "{scope}");
}

#[tokio::test]
async fn a_bad_file_or_environment_value_names_where_it_was_written() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tollgate.toml"),
        "log = \"info\"\ncode_ttl = \"x\"\n",
    )
    .unwrap();
    let hint = "invalid duration 'x' (write 90s, 15m, 12h, 30d or seconds)";

    // Act
    let from_file = tollgate(dir.path()).arg("migrate").output().unwrap();
    let from_env = tollgate(dir.path())
        .args(["--config", "/dev/null", "migrate"])
        .env("TOLLGATE_CODE_TTL", "x")
        .output()
        .unwrap();

    // Assert
    assert_eq!(
        stderr(&from_file),
        format!("error: invalid code_ttl in ./tollgate.toml, line 2: {hint}\n")
    );
    assert_eq!(
        stderr(&from_env),
        format!("error: invalid TOLLGATE_CODE_TTL: {hint}\n")
    );
}

#[tokio::test]
async fn sqlite_in_a_missing_directory_names_the_path_and_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("no-such-dir").join("t.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let out = run(dir.path(), &url, &["migrate"], "");
    assert_eq!(
        stderr(&out),
        format!(
            "error: cannot open the SQLite database {}: the directory {} does not exist \
             (create it, or put the file elsewhere)\n",
            file.display(),
            dir.path().join("no-such-dir").display()
        )
    );
}

#[tokio::test]
async fn sqlite_without_mode_rwc_says_how_to_create_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.db");
    let out = run(
        dir.path(),
        &format!("sqlite://{}", file.display()),
        &["migrate"],
        "",
    );
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{}: the file does not exist (add ?mode=rwc",
            file.display()
        )),
        "{err}"
    );
}

#[tokio::test]
async fn postgresql_not_listening_fails_fast_naming_the_address_without_the_password() {
    // Arrange: a port nothing listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("postgres://tollgate:hunter2@127.0.0.1:{port}/tollgate");

    // Act
    let started = Instant::now();
    let out = run(dir.path(), &url, &["migrate"], "");

    // Assert
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        stderr(&out),
        format!(
            "error: cannot connect to PostgreSQL at 127.0.0.1:{port}: connection refused \
             (is PostgreSQL running and listening on that address?)\n"
        )
    );
}

/// A PostgreSQL server that knows no database: it answers every startup
/// message the way PostgreSQL does for a missing one (the `L` and `R`
/// fields are where `at line 948` used to come from).
fn fake_postgres_without_databases() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let read_message = |stream: &mut std::net::TcpStream| {
                let mut len = [0u8; 4];
                stream.read_exact(&mut len)?;
                let mut body = vec![0u8; u32::from_be_bytes(len) as usize - 4];
                stream.read_exact(&mut body)?;
                Ok::<_, std::io::Error>(body)
            };
            let Ok(mut first) = read_message(&mut stream) else {
                continue;
            };
            if first == [0x04, 0xd2, 0x16, 0x2f] {
                // SSLRequest: no TLS here.
                let _ = stream.write_all(b"N");
                let Ok(startup) = read_message(&mut stream) else {
                    continue;
                };
                first = startup;
            }
            let database = first
                .split(|b| *b == 0)
                .skip_while(|f| *f != b"database")
                .nth(1)
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .unwrap_or_default();
            let mut fields = Vec::new();
            for (code, value) in [
                (b'S', "FATAL".to_owned()),
                (b'V', "FATAL".to_owned()),
                (b'C', "3D000".to_owned()),
                (b'M', format!("database \"{database}\" does not exist")),
                (b'F', "postinit.c".to_owned()),
                (b'L', "948".to_owned()),
                (b'R', "InitPostgres".to_owned()),
            ] {
                fields.push(code);
                fields.extend_from_slice(value.as_bytes());
                fields.push(0);
            }
            fields.push(0);
            let mut reply = vec![b'E'];
            reply.extend_from_slice(&(fields.len() as u32 + 4).to_be_bytes());
            reply.extend_from_slice(&fields);
            let _ = stream.write_all(&reply);
        }
    });
    port
}

#[tokio::test]
async fn a_missing_postgresql_database_says_which_and_how_to_create_it() {
    // Arrange: the real server on the PostgreSQL lane, the fake elsewhere.
    let mut url = match std::env::var("TOLLGATE_TEST_POSTGRES_URL") {
        Ok(base) if !base.is_empty() => url::Url::parse(&base).unwrap(),
        _ => url::Url::parse(&format!(
            "postgres://tollgate:hunter2@127.0.0.1:{}/",
            fake_postgres_without_databases()
        ))
        .unwrap(),
    };
    url.set_path("/tollgate_missing_database");
    let (host, port, user) = (
        url.host_str().unwrap().to_owned(),
        url.port_or_known_default().unwrap(),
        url.username().to_owned(),
    );
    let dir = tempfile::tempdir().unwrap();

    // Act
    let out = run(dir.path(), url.as_str(), &["migrate"], "");

    // Assert
    let err = stderr(&out);
    assert_eq!(
        err,
        format!(
            "error: PostgreSQL at {host}:{port} has no database \"tollgate_missing_database\": \
             create it with `createdb -h {host} -p {port} -U {user} tollgate_missing_database`, \
             or name another in the URL\n"
        )
    );
    assert!(!err.contains("hunter2") && !err.contains("948"), "{err}");
}

#[tokio::test]
async fn without_an_issuer_the_server_advertises_the_port_it_bound() {
    // Arrange: `--bind 127.0.0.1:0` and no issuer.
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let server = Server::start(dir.path(), &url, &[]).await;

    // Act
    let discovery: serde_json::Value = reqwest::get(format!(
        "{}/.well-known/oauth-authorization-server",
        server.base
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();

    // Assert
    assert_eq!(discovery["issuer"], server.base.as_str());
    assert!(
        !server
            .log()
            .contains("is not the address this server listens on")
    );
}

#[tokio::test]
async fn an_issuer_that_disagrees_with_the_bind_address_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let mut server = Server::start(dir.path(), &url, &["--issuer", "http://127.0.0.1:8080"]).await;
    let line = server
        .wait_for_log("is not the address this server listens on")
        .await;
    assert!(
        line.contains("WARN")
            && line.contains("http://127.0.0.1:8080")
            && line.contains("--issuer"),
        "{line}"
    );
}

#[tokio::test]
async fn a_port_in_use_names_the_settings_that_change_it() {
    // Arrange: the port is taken.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();

    // Act
    let out = tollgate(dir.path())
        .args(["serve", "--bind", &addr.to_string()])
        .env("TOLLGATE_DATABASE_URL", "sqlite://unused.db?mode=rwc")
        .output()
        .unwrap();

    // Assert
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!("error: cannot listen on {addr}: ")),
        "{err}"
    );
    assert!(
        err.contains("choose another port with --bind, TOLLGATE_BIND or bind in tollgate.toml"),
        "{err}"
    );
    assert!(
        !dir.path().join("unused.db").exists(),
        "the port is checked before the database is opened"
    );
}
