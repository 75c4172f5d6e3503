//! Load generator for `benches/run`: drives a running Tollgate over
//! loopback and prints throughput and latency. Not a test: speed is
//! measured here, never asserted in the suite.
//!
//! loadgen BASE SCENARIO SECONDS CONCURRENCY [ARGS...]
//!   healthz
//!   jwt-read            TOKEN
//!   key-read            API_KEY
//!   client-credentials  CLIENT_ID CLIENT_SECRET
//!   code-flow           CLIENT_ID CLIENT_SECRET REDIRECT_URI USERNAME PASSWORD
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::redirect::Policy;
use tokio::sync::Mutex;

#[derive(Default)]
struct Tally {
    ok: u64,
    failed: u64,
    latencies_us: Vec<u32>,
    first_error: Option<String>,
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args[1].clone();
    let scenario = args[2].clone();
    let seconds: u64 = args[3].parse().unwrap();
    let concurrency: usize = args[4].parse().unwrap();
    let rest: Arc<Vec<String>> = Arc::new(args[5..].to_vec());
    let tally = Arc::new(Mutex::new(Tally::default()));
    let deadline = Instant::now() + Duration::from_secs(seconds);

    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let base = base.clone();
        let scenario = scenario.clone();
        let rest = rest.clone();
        let tally = tally.clone();
        workers.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .redirect(Policy::none())
                .cookie_store(true)
                .pool_max_idle_per_host(1)
                .build()
                .unwrap();
            let mut local = Tally::default();
            if scenario == "code-flow" {
                log_in(&http, &base, &rest).await;
            }
            while Instant::now() < deadline {
                let started = Instant::now();
                let result = match scenario.as_str() {
                    "jwt-read" => {
                        read(
                            &http,
                            &base,
                            "authorization",
                            &format!("Bearer {}", rest[0]),
                        )
                        .await
                    }
                    "key-read" => read(&http, &base, "x-api-key", &rest[0]).await,
                    "healthz" => health(&http, &base).await,
                    "client-credentials" => client_credentials(&http, &base, &rest).await,
                    "code-flow" => code_flow(&http, &base, &rest).await,
                    other => panic!("unknown scenario {other}"),
                };
                match result {
                    Ok(()) => {
                        local.ok += 1;
                        local
                            .latencies_us
                            .push(started.elapsed().as_micros() as u32);
                    }
                    Err(e) => {
                        local.failed += 1;
                        local.first_error.get_or_insert(e);
                    }
                }
            }
            let mut t = tally.lock().await;
            t.ok += local.ok;
            t.failed += local.failed;
            t.latencies_us.extend(local.latencies_us);
            if t.first_error.is_none() {
                t.first_error = local.first_error;
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    let mut t = tally.lock().await;
    t.latencies_us.sort_unstable();
    let pct = |p: f64| {
        t.latencies_us
            .get(((t.latencies_us.len() as f64) * p) as usize)
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    println!(
        "{scenario:<20} {:>9.0}/s  ok={} failed={}  p50={:.2}ms p99={:.2}ms{}",
        t.ok as f64 / seconds as f64,
        t.ok,
        t.failed,
        pct(0.50),
        pct(0.99),
        t.first_error
            .as_ref()
            .map(|e| format!("  first error: {e}"))
            .unwrap_or_default()
    );
}

async fn read(http: &reqwest::Client, base: &str, header: &str, value: &str) -> Result<(), String> {
    let resp = http
        .get(format!(
            "{base}/{}",
            std::env::var("LOADGEN_PATH").unwrap_or_else(|_| "api/v1/posts?limit=10".to_owned())
        ))
        .header(header, value)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status();
    resp.bytes().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("status {status}"))
    }
}

/// The HTTP floor: a request that touches nothing else.
async fn health(http: &reqwest::Client, base: &str) -> Result<(), String> {
    let resp = http
        .get(format!(
            "{base}/{}",
            std::env::var("LOADGEN_PATH").unwrap_or_else(|_| "healthz".to_owned())
        ))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status();
    resp.bytes().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("status {status}"))
    }
}

async fn client_credentials(
    http: &reqwest::Client,
    base: &str,
    a: &[String],
) -> Result<(), String> {
    let resp = http
        .post(format!("{base}/oauth/token"))
        .basic_auth(&a[0], Some(&a[1]))
        .form(&[("grant_type", "client_credentials"), ("scope", "blog:read")])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status();
    let body = resp.text().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("status {status}: {body}"))
    }
}

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn authorize_url(base: &str, a: &[String]) -> String {
    let q = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &a[0])
        .append_pair("redirect_uri", &a[2])
        .append_pair("scope", "blog:read")
        .append_pair("state", "s")
        .append_pair("code_challenge", CHALLENGE)
        .append_pair("code_challenge_method", "S256")
        .finish();
    format!("{base}/oauth/authorize?{q}")
}

fn csrf_of(page: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = page.find(marker).expect("a form") + marker.len();
    page[start..start + page[start..].find('"').unwrap()].to_owned()
}

/// Signs in (and consents) once per worker: argon2 and the pages are not
/// what this measures.
async fn log_in(http: &reqwest::Client, base: &str, a: &[String]) {
    let url = authorize_url(base, a);
    let page = http.get(&url).send().await.unwrap().text().await.unwrap();
    let resp = http
        .post(&url)
        .form(&[
            ("csrf_token", csrf_of(&page).as_str()),
            ("username", &a[3]),
            ("password", &a[4]),
        ])
        .send()
        .await
        .unwrap();
    if resp.status().is_redirection() {
        return;
    }
    let page = resp.text().await.unwrap();
    let resp = http
        .post(&url)
        .form(&[
            ("csrf_token", csrf_of(&page).as_str()),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        resp.status().is_redirection(),
        "consent failed: {}",
        resp.status()
    );
}

/// A returning user's flow: authorize (session and consent exist, so it
/// answers with a code at once), then the code exchange.
async fn code_flow(http: &reqwest::Client, base: &str, a: &[String]) -> Result<(), String> {
    let resp = http
        .get(authorize_url(base, a))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| format!("authorize answered {}", resp.status()))?
        .to_owned();
    let url = url::Url::parse(&location).map_err(|e| e.to_string())?;
    let code = url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| format!("no code in {location}"))?;
    let resp = http
        .post(format!("{base}/oauth/token"))
        .basic_auth(&a[0], Some(&a[1]))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &a[2]),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status();
    let body = resp.text().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("token {status}: {body}"))
    }
}
