//! The built binary, run the way an operator runs it: with a scrubbed
//! environment (nothing inherited but what a test passes) and in a temp
//! current directory, so that neither the developer's own `tollgate.toml`
//! nor an exported `TOLLGATE_*` variable can change what a test sees.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_tollgate");

/// Generous bounds for waits on a busy 2-core machine. They only limit how
/// long a broken build takes to fail; passing tests wait for an event.
const START_WITHIN: Duration = Duration::from_secs(30);

/// `tollgate` with an empty environment, run in `dir`.
pub fn tollgate(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear().current_dir(dir);
    cmd
}

/// Runs `args` on `database_url` in `dir` with `stdin`, and waits.
pub fn run(dir: &Path, database_url: &str, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = tollgate(dir)
        .env("TOLLGATE_DATABASE_URL", database_url)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Runs a management command on `database_url` and parses its JSON output.
pub fn run_json(dir: &Path, database_url: &str, args: &[&str], stdin: &str) -> Value {
    let out = run(dir, database_url, args, stdin);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Creates `alice` and an API key for her through the real command line;
/// returns the key.
pub fn alice_with_a_key(dir: &Path, database_url: &str) -> String {
    let user = run_json(
        dir,
        database_url,
        &["user", "create", "alice", "--password-stdin", "--json"],
        "a-long-password\n",
    );
    assert_eq!(user["username"], "alice");
    let key = run_json(
        dir,
        database_url,
        &[
            "api-key",
            "create",
            "--name",
            "it",
            "--owner",
            "alice",
            "--scope",
            "blog:read",
            "blog:write",
            "--json",
        ],
        "",
    );
    key["key"].as_str().unwrap().to_owned()
}

/// `tollgate serve` on a port of its own choosing, with its log kept.
/// Killed when dropped.
pub struct Server {
    child: Child,
    log: Arc<Mutex<String>>,
    /// `http://127.0.0.1:PORT`, read back from the server's log.
    pub base: String,
}

impl Server {
    /// Starts `tollgate serve` on `database_url` in `dir` with `extra`
    /// arguments, binding port 0 (so no other process can take the port
    /// between choosing and binding it), and waits until it is ready.
    pub async fn start(dir: &Path, database_url: &str, extra: &[&str]) -> Self {
        Self::start_with_env(dir, database_url, extra, &[]).await
    }

    /// As [`Server::start`], with `env` added to its environment: for
    /// settings that have no flag, such as `TOLLGATE_GC_INTERVAL`.
    pub async fn start_with_env(
        dir: &Path,
        database_url: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        let mut child = tollgate(dir)
            .args(["serve", "--bind", "127.0.0.1:0", "--log", "info"])
            .args(extra)
            .env("TOLLGATE_DATABASE_URL", database_url)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let mut server = Self {
            child,
            log,
            base: String::new(),
        };
        // poem logs `listening addr=socket://127.0.0.1:PORT` once bound
        // (`"addr":"socket://…"` in JSON).
        let line = server.wait_for_log("socket://").await;
        let addr: String = line
            .split("socket://")
            .nth(1)
            .unwrap_or_else(|| panic!("no address in {line}"))
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
            .collect();
        server.base = format!("http://{addr}");
        server.wait_until_ready().await;
        server
    }

    pub fn addr(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    async fn wait_until_ready(&self) {
        let http = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + START_WITHIN;
        while tokio::time::Instant::now() < deadline {
            if let Ok(resp) = http.get(format!("{}/readyz", self.base)).send().await
                && resp.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not become ready:\n{}", self.log());
    }

    /// Everything the server has written to stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits until a line of the server's log contains `needle`; returns it.
    pub async fn wait_for_log(&mut self, needle: &str) -> String {
        self.wait_for_line(needle, |l| l.contains(needle)).await
    }

    /// Waits until a line of the server's log is `wanted` (described by
    /// `what` in a failure); returns it.
    pub async fn wait_for_line(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + START_WITHIN;
        loop {
            if let Some(line) = self.log().lines().find(|l| wanted(l)) {
                return line.to_owned();
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "the server exited ({status}) before logging {what:?}:\n{}",
                    self.log()
                );
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no {what:?} in the server's log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends `signal` (`TERM`, `INT`) to the server process.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Waits for the process to exit; fails the test after `within`.
    pub async fn wait_for_exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the server did not exit within {within:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
