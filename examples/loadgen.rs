//! Load generator for `benches/run`: drives a running Tollgate over
//! loopback and prints throughput and latency. Not a test: speed is
//! measured here, never asserted in the suite.
//!
//! loadgen BASE[,BASE...] SCENARIO SECONDS CONCURRENCY [ARGS...]
//!   (with several bases, e.g. instances on one database, the workers are
//!   dealt out over them in turn)
//!   posts               jwt|key CREDENTIALS_FILE IDS_FILE WRITE_PERCENT
//!                       GET /api/v1/posts/{id} with an id and a credential
//!                       drawn at random per request; WRITE_PERCENT of the
//!                       requests create a post instead
//!   jwt-read            TOKEN     one URL (LOADGEN_PATH, default
//!   key-read            API_KEY   api/v1/posts?limit=10), one credential
//!   healthz
//!   client-credentials  CLIENT_ID CLIENT_SECRET
//!   code-flow           CLIENT_ID CLIENT_SECRET REDIRECT_URI USERNAME PASSWORD
//!
//! Set-up, untimed, printing one value a line on stdout:
//!   loadgen BASE seed API_KEY COUNT CONCURRENCY      ids of COUNT new published posts
//!   loadgen BASE tokens CLIENT_ID CLIENT_SECRET COUNT  client_credentials access tokens
//!
//! Each worker has its own connection. Its set-up (the code flow's sign-in)
//! happens before the timed window opens, which is the same for all.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use reqwest::redirect::Policy;
use tokio::sync::{Barrier, Mutex};

#[derive(Default)]
struct Tally {
    ok: u64,
    writes: u64,
    failed: u64,
    latencies_us: Vec<u32>,
    first_error: Option<String>,
}

/// What a timed scenario needs, shared by its workers.
struct Job {
    bases: Vec<String>,
    scenario: String,
    rest: Vec<String>,
    /// `posts`: the credentials and post ids to draw from.
    credentials: Vec<String>,
    ids: Vec<String>,
    write_percent: u32,
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bases: Vec<String> = args[1].split(',').map(str::to_owned).collect();
    let base = bases[0].clone();
    match args[2].as_str() {
        "seed" => {
            return seed(
                &base,
                &args[3],
                args[4].parse().unwrap(),
                args[5].parse().unwrap(),
            )
            .await;
        }
        "tokens" => return tokens(&base, &args[3], &args[4], args[5].parse().unwrap()).await,
        _ => {}
    }
    let scenario = args[2].clone();
    let seconds: u64 = args[3].parse().unwrap();
    let concurrency: usize = args[4].parse().unwrap();
    let rest = args[5..].to_vec();
    let mut job = Job {
        bases,
        scenario: scenario.clone(),
        rest,
        credentials: Vec::new(),
        ids: Vec::new(),
        write_percent: 0,
    };
    let mut label = scenario.clone();
    if scenario == "posts" {
        job.credentials = lines(&job.rest[1]);
        job.ids = lines(&job.rest[2]);
        job.write_percent = job.rest[3].parse().unwrap();
        assert!(!job.credentials.is_empty() && !job.ids.is_empty());
        label = format!(
            "posts {} {}/{} r/w",
            job.rest[0],
            100 - job.write_percent,
            job.write_percent
        );
    }
    let job = Arc::new(job);
    let tally = Arc::new(Mutex::new(Tally::default()));
    let ready = Arc::new(Barrier::new(concurrency));

    let mut workers = Vec::new();
    for worker in 0..concurrency {
        let job = job.clone();
        let base = job.bases[worker % job.bases.len()].clone();
        let tally = tally.clone();
        let ready = ready.clone();
        workers.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .redirect(Policy::none())
                .cookie_store(true)
                .pool_max_idle_per_host(1)
                .build()
                .unwrap();
            let mut rng = SmallRng::from_rng(&mut rand::rng());
            let mut local = Tally::default();
            if job.scenario == "code-flow" {
                log_in(&http, &base, &job.rest).await;
            }
            ready.wait().await;
            let deadline = Instant::now() + Duration::from_secs(seconds);
            while Instant::now() < deadline {
                let started = Instant::now();
                let mut wrote = false;
                let result = match job.scenario.as_str() {
                    "posts" => {
                        let (header, value) = credential(&job, &mut rng);
                        if rng.random_ratio(job.write_percent, 100) {
                            wrote = true;
                            create_post(&http, &base, header, &value).await
                        } else {
                            let id = &job.ids[rng.random_range(0..job.ids.len())];
                            get(&http, &format!("{base}/api/v1/posts/{id}"), header, &value).await
                        }
                    }
                    "jwt-read" => {
                        let value = format!("Bearer {}", job.rest[0]);
                        get(&http, &read_url(&base), "authorization", &value).await
                    }
                    "key-read" => get(&http, &read_url(&base), "x-api-key", &job.rest[0]).await,
                    "healthz" => health(&http, &base).await,
                    "client-credentials" => client_credentials(&http, &base, &job.rest).await,
                    "code-flow" => code_flow(&http, &base, &job.rest).await,
                    other => panic!("unknown scenario {other}"),
                };
                match result {
                    Ok(()) => {
                        local.ok += 1;
                        local.writes += u64::from(wrote);
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
            t.writes += local.writes;
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
    let writes = if t.writes > 0 {
        format!(" (writes {}/s)", t.writes / seconds)
    } else {
        String::new()
    };
    println!(
        "{label:<24} {:>9.0}/s{writes}  ok={} failed={}  p50={:.2}ms p99={:.2}ms{}",
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

/// The non-empty lines of a file.
fn lines(path: &str) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A credential drawn at random, as the header that carries it.
fn credential(job: &Job, rng: &mut SmallRng) -> (&'static str, String) {
    let c = &job.credentials[rng.random_range(0..job.credentials.len())];
    match job.rest[0].as_str() {
        "jwt" => ("authorization", format!("Bearer {c}")),
        "key" => ("x-api-key", c.clone()),
        other => panic!("posts: expected jwt or key, not {other}"),
    }
}

fn read_url(base: &str) -> String {
    format!(
        "{base}/{}",
        std::env::var("LOADGEN_PATH").unwrap_or_else(|_| "api/v1/posts?limit=10".to_owned())
    )
}

async fn get(http: &reqwest::Client, url: &str, header: &str, value: &str) -> Result<(), String> {
    let resp = http
        .get(url)
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

async fn create_post(
    http: &reqwest::Client,
    base: &str,
    header: &str,
    value: &str,
) -> Result<(), String> {
    post_and_read_id(http, base, header, value)
        .await
        .map(|_| ())
}

/// Creates a published post; returns its id.
async fn post_and_read_id(
    http: &reqwest::Client,
    base: &str,
    header: &str,
    value: &str,
) -> Result<String, String> {
    let resp = http
        .post(format!("{base}/api/v1/posts"))
        .header(header, value)
        .json(&serde_json::json!({
            "title": "Load",
            "body": "A post written by the load generator.",
            "published": true,
        }))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.map_err(|e| e.to_string())?;
    if status.as_u16() == 201 {
        Ok(body["id"].as_str().unwrap_or_default().to_owned())
    } else {
        Err(format!("create: status {status}: {body}"))
    }
}

/// Creates `count` published posts with `concurrency` connections and
/// prints their ids.
async fn seed(base: &str, api_key: &str, count: usize, concurrency: usize) {
    let mut workers = Vec::new();
    for w in 0..concurrency {
        let share = count / concurrency + usize::from(w < count % concurrency);
        let (base, key) = (base.to_owned(), api_key.to_owned());
        workers.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut ids = Vec::with_capacity(share);
            for _ in 0..share {
                ids.push(
                    post_and_read_id(&http, &base, "x-api-key", &key)
                        .await
                        .unwrap(),
                );
            }
            ids
        }));
    }
    for w in workers {
        for id in w.await.unwrap() {
            println!("{id}");
        }
    }
}

/// Prints `count` client_credentials access tokens.
async fn tokens(base: &str, client_id: &str, secret: &str, count: usize) {
    let http = reqwest::Client::new();
    for _ in 0..count {
        let resp = http
            .post(format!("{base}/oauth/token"))
            .basic_auth(client_id, Some(secret))
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", "blog:read blog:write"),
            ])
            .send()
            .await
            .unwrap();
        let body: serde_json::Value = resp.json().await.unwrap();
        println!("{}", body["access_token"].as_str().expect("a token"));
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

/// Signs in (and consents) once per worker, before the timed window:
/// argon2 and the pages are not what this measures.
async fn log_in(http: &reqwest::Client, base: &str, a: &[String]) {
    let url = authorize_url(base, a);
    let page = http.get(&url).send().await.unwrap().text().await.unwrap();
    // The server checks a few passwords at once and turns the rest away
    // with 503 and Retry-After: sign in again, as a person would.
    let resp = loop {
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
        if resp.status() != reqwest::StatusCode::SERVICE_UNAVAILABLE {
            break resp;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
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
