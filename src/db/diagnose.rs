//! Saying why a database cannot be opened, and what to do about it.
//! SQLite's own answer is `(code: 14) unable to open database file`, with
//! no path; a PostgreSQL pool retries a refused connection until its
//! acquire timeout, ten silent seconds, and then says `pool timed out`.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sea_orm::DbErr;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::sqlx::{self, Connection};

/// How long the first connection to PostgreSQL may take before we say
/// that nothing answers.
const PG_CONNECT_WITHIN: Duration = Duration::from_secs(3);

/// The URL with its password replaced, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("redacted"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// One connection, once, with a short timeout: a refused or unanswered
/// connection, a missing database or a refused login is reported at once
/// and in words, before the pool would retry it in silence.
pub async fn check_postgres(url: &str) -> Result<(), String> {
    let opts = PgConnectOptions::from_str(url)
        .map_err(|e| format!("invalid PostgreSQL URL {}: {e}", redact(url)))?;
    let target = format!("{}:{}", opts.get_host(), opts.get_port());
    match tokio::time::timeout(PG_CONNECT_WITHIN, PgConnection::connect_with(&opts)).await {
        Err(_) => Err(format!(
            "cannot connect to PostgreSQL at {target}: no answer within {}s \
             (is it running, and is the host right?)",
            PG_CONNECT_WITHIN.as_secs()
        )),
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(describe_postgres(&e, &opts, &target)),
    }
}

fn describe_postgres(e: &sqlx::Error, opts: &PgConnectOptions, target: &str) -> String {
    let user = opts.get_username();
    let database = opts.get_database().unwrap_or(user);
    match e {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => format!(
            "cannot connect to PostgreSQL at {target}: connection refused \
             (is PostgreSQL running and listening on that address?)"
        ),
        sqlx::Error::Io(io) => format!("cannot connect to PostgreSQL at {target}: {io}"),
        sqlx::Error::Database(db) => match db.code().as_deref() {
            // invalid_catalog_name
            Some("3D000") => format!(
                "PostgreSQL at {target} has no database \"{database}\": create it with \
                 `createdb -h {} -p {} -U {user} {database}`, or name another in the URL",
                opts.get_host(),
                opts.get_port(),
            ),
            // invalid_password, invalid_authorization_specification
            Some("28P01" | "28000") => format!(
                "PostgreSQL at {target} refused user \"{user}\": {} \
                 (check the user and password in the database URL, and pg_hba.conf)",
                db.message()
            ),
            _ => format!("cannot connect to PostgreSQL at {target}: {}", db.message()),
        },
        other => format!("cannot connect to PostgreSQL at {target}: {other}"),
    }
}

/// Why the SQLite database of `url` could not be opened, with its path.
pub fn sqlite(url: &str, e: &DbErr) -> String {
    let (path, creates) = sqlite_path(url);
    let shown = path.display();
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let hint = if !dir.is_dir() {
        format!(
            "the directory {} does not exist (create it, or put the file elsewhere)",
            dir.display()
        )
    } else if path.is_dir() {
        "that is a directory, not a database file".to_owned()
    } else if !path.exists() && !creates {
        "the file does not exist (add ?mode=rwc to the URL to create it)".to_owned()
    } else if !writable(&dir) {
        format!(
            "the directory {} is not writable by this user (SQLite also writes \
             -wal and -shm files beside the database)",
            dir.display()
        )
    } else {
        e.to_string()
    };
    format!("cannot open the SQLite database {shown}: {hint}")
}

/// The file a `sqlite:` URL names, and whether the URL lets SQLite create it.
fn sqlite_path(url: &str) -> (PathBuf, bool) {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (file, query) = rest.split_once('?').unwrap_or((rest, ""));
    let creates = query.split('&').any(|p| p == "mode=rwc");
    (PathBuf::from(file), creates)
}

/// Whether a file can be created in `dir` (permission bits do not tell
/// for root, or on some file systems).
fn writable(dir: &Path) -> bool {
    let probe = dir.join(format!(".tollgate-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            true
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sqlite_url_names_its_file_and_whether_it_may_create_it() {
        assert_eq!(
            sqlite_path("sqlite://data/t.db?mode=rwc"),
            (PathBuf::from("data/t.db"), true)
        );
        assert_eq!(
            sqlite_path("sqlite:///var/lib/t.db"),
            (PathBuf::from("/var/lib/t.db"), false)
        );
    }

    #[test]
    fn a_password_in_a_url_is_redacted() {
        assert_eq!(
            redact("postgres://u:hunter2@db:5432/x"),
            "postgres://u:redacted@db:5432/x"
        );
    }
}
