//! `bench/queue`: how fast Reel's job queue hands out work. Each claimer is a task with a
//! pooled connection that claims a no-op job with the runner's own query
//! (`db::jobs::claim`, `FOR UPDATE SKIP LOCKED`) and finishes it (`db::jobs::finish_alone`), until
//! none is left. Prints a Markdown table.
//!
//! Usage: queue DATABASE_URL   (a database of its own: its `jobs` table is emptied)
//!   env: JOBS (queued jobs per run, default 10000), DONE (done jobs in the table for the
//!   latency run, default 100000), CLAIMERS (default "1 4 16")

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel_async::RunQueryDsl;
use reel::config::DatabaseConfig;
use reel::db::{self, DbPool};
use tokio::sync::Mutex;

const KIND: &str = "bench_noop";

#[tokio::main]
async fn main() {
    let url = std::env::args().nth(1).expect("usage: queue DATABASE_URL");
    let env = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    let jobs: i64 = env("JOBS", "10000").parse().unwrap();
    let done: i64 = env("DONE", "100000").parse().unwrap();
    let claimers: Vec<usize> = env("CLAIMERS", "1 4 16")
        .split_whitespace()
        .map(|s| s.parse().unwrap())
        .collect();
    db::ensure_database(&url, Duration::from_secs(5))
        .await
        .unwrap();
    db::migrate(&url).await.unwrap();
    let max = claimers.iter().copied().max().unwrap_or(1);
    let cfg = DatabaseConfig {
        pool_size: max + 2,
        ..DatabaseConfig::default()
    };
    let pool = db::connect(&url, &cfg).await.unwrap();

    println!(
        "| claimers | jobs in the table | claimed + finished | seconds | claims/s | claim p50 / p99 ms | finish p50 / p99 ms |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|");
    for &n in &claimers {
        reset(&pool, jobs, 0).await;
        let run = drain(&pool, n).await;
        run.print(n, &format!("{jobs} queued"));
    }
    for &n in &claimers {
        reset(&pool, jobs, done).await;
        let run = drain(&pool, n).await;
        run.print(n, &format!("{jobs} queued + {done} done"));
    }

    // Pruning: every done job older than the cut (here: all of them), in the runner's batches.
    reset(&pool, 0, done).await;
    let mut conn = pool.get().await.unwrap();
    let started = Instant::now();
    let mut pruned = 0;
    loop {
        let n = db::jobs::prune(&mut conn, 0, 10_000).await.unwrap();
        pruned += n;
        if n == 0 {
            break;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!();
    println!(
        "Pruning {pruned} done jobs in batches of 10000 (`db::jobs::prune`, as the runner does): {secs:.2} s, {:.0} jobs/s.",
        pruned as f64 / secs
    );
}

/// Empties the table, then inserts `queued` no-op jobs ready to run and `done` finished
/// ones (as a busy install's history would leave), and refreshes the planner's statistics.
async fn reset(pool: &DbPool, queued: i64, done: i64) {
    let mut conn = pool.get().await.unwrap();
    for sql in [
        "TRUNCATE jobs CASCADE".to_string(),
        format!(
            "INSERT INTO jobs (kind, payload, state, updated_at)
             SELECT '{KIND}', '{{}}', 'done', now() - interval '1 day' FROM generate_series(1, {done})"
        ),
        format!(
            "INSERT INTO jobs (kind, payload, state)
             SELECT '{KIND}', '{{}}', 'queued' FROM generate_series(1, {queued})"
        ),
        "VACUUM ANALYZE jobs".to_string(),
    ] {
        diesel::sql_query(sql).execute(&mut conn).await.unwrap();
    }
}

struct Run {
    jobs: usize,
    secs: f64,
    claim_ms: Vec<f64>,
    finish_ms: Vec<f64>,
}

/// `n` claimers take and finish jobs until the queue is empty.
async fn drain(pool: &DbPool, n: usize) -> Run {
    let samples = Arc::new(Mutex::new((Vec::new(), Vec::new())));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..n {
        let (pool, samples) = (pool.clone(), samples.clone());
        tasks.push(tokio::spawn(async move {
            let worker = format!("bench-{i}");
            let mut conn = pool.get().await.unwrap();
            let (mut claims, mut finishes) = (Vec::new(), Vec::new());
            loop {
                let t = Instant::now();
                let row = db::jobs::claim(&mut conn, &worker, 30, &[KIND])
                    .await
                    .unwrap();
                claims.push(t.elapsed().as_secs_f64() * 1000.0);
                let Some(row) = row else { break };
                let t = Instant::now();
                assert!(
                    db::jobs::finish_alone(&mut conn, row.id, &worker)
                        .await
                        .unwrap()
                );
                finishes.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            claims.pop(); // the empty claim that ended the loop
            let mut all = samples.lock().await;
            all.0.extend(claims);
            all.1.extend(finishes);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    let (claim_ms, finish_ms) = std::mem::take(&mut *samples.lock().await);
    Run {
        jobs: finish_ms.len(),
        secs,
        claim_ms,
        finish_ms,
    }
}

impl Run {
    fn print(mut self, claimers: usize, table: &str) {
        let pct = |v: &mut Vec<f64>, p: f64| {
            v.sort_by(f64::total_cmp);
            v.get(((v.len() as f64 * p).ceil() as usize).saturating_sub(1))
                .copied()
                .unwrap_or(0.0)
        };
        println!(
            "| {claimers} | {table} | {} | {:.2} | {:.0} | {:.2} / {:.2} | {:.2} / {:.2} |",
            self.jobs,
            self.secs,
            self.jobs as f64 / self.secs,
            pct(&mut self.claim_ms, 0.5),
            pct(&mut self.claim_ms, 0.99),
            pct(&mut self.finish_ms, 0.5),
            pct(&mut self.finish_ms, 0.99),
        );
    }
}
