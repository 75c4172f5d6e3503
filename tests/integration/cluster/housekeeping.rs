//! Housekeeping runs once per `gc_interval` in the whole cluster, not once
//! per instance: every instance tries on its own clock, and only the one
//! that takes the lease in the `leases` table runs.

use std::time::{Duration, Instant};

use futures_util::future::join_all;

use super::{Cluster, http, wait_until};

/// The shortest interval the server allows.
const GC_INTERVAL: Duration = Duration::from_secs(1);
/// Each instance's tries to watch. Had every try run, the cluster would
/// run `size` times this; with the lease, about this many times.
const TRIES_EACH: u64 = 5;
/// The lease is taken again after this share of the interval (see
/// `housekeeping::run_if_due`), so runs are at least this far apart.
const LEASE_SHARE: f64 = 0.9;

/// `(ran, skipped)` from instance `i`'s `/metrics`.
async fn runs(cluster: &Cluster, i: usize) -> (u64, u64) {
    let text = http()
        .get(cluster.url(i, "/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    let count = |outcome: &str| {
        let series = format!("tollgate_housekeeping_runs_total{{outcome=\"{outcome}\"}} ");
        text.lines()
            .find_map(|line| line.strip_prefix(&series))
            .unwrap_or_else(|| panic!("{series} in:\n{text}"))
            .trim()
            .parse::<u64>()
            .expect("a count")
    };
    (count("ran"), count("skipped"))
}

async fn all_runs(cluster: &Cluster) -> Vec<(u64, u64)> {
    join_all((0..cluster.size()).map(|i| runs(cluster, i))).await
}

#[tokio::test]
async fn housekeeping_runs_about_once_per_interval_across_the_cluster_not_once_per_instance() {
    // Arrange
    let cluster = Cluster::start_with(|_, _| vec![], &[("TOLLGATE_GC_INTERVAL", "1s")]).await;
    let started = Instant::now();
    let before = all_runs(&cluster).await;

    // Act: until every instance has tried TRIES_EACH more times.
    let within = GC_INTERVAL * u32::try_from(TRIES_EACH * 4).unwrap();
    let after = std::cell::RefCell::new(before.clone());
    wait_until(within, "every instance tries on its own clock", || async {
        let now = all_runs(&cluster).await;
        let done = now
            .iter()
            .zip(&before)
            .all(|(a, b)| (a.0 + a.1) - (b.0 + b.1) >= TRIES_EACH);
        after.replace(now);
        done
    })
    .await;
    let elapsed = started.elapsed();
    let after = after.into_inner();

    // Assert
    let ran: u64 = after.iter().zip(&before).map(|(a, b)| a.0 - b.0).sum();
    let tried: u64 = after
        .iter()
        .zip(&before)
        .map(|(a, b)| (a.0 + a.1) - (b.0 + b.1))
        .sum();
    // Runs are at least LEASE_SHARE * GC_INTERVAL apart, so no more than
    // this many fit in the window (one at each end).
    let most = (elapsed.as_secs_f64() / (GC_INTERVAL.as_secs_f64() * LEASE_SHARE)) as u64 + 1;
    assert!(
        tried > most,
        "the window shows nothing: {tried} tries in {elapsed:?} could all have run"
    );
    assert!(
        (1..=most).contains(&ran),
        "{ran} runs of {tried} tries in {elapsed:?}: at most {most} in the cluster, per instance {after:?} (before {before:?})"
    );
}
