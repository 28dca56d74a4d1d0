//! The capacity plan's run (docs/capacity.md, "Backed by runs"): the deployed design offline, on the
//! engine's paused clock, with prompts arriving on a curve rather than in one burst. 10,000 prompt
//! files are uploaded the S3 way (PutObject, then the notification to the real start-execution
//! handler) on a triangular curve over 240 minutes (the rate rising from 0 to its peak at minute 120,
//! then falling to 0), into three model pools of 20 requests a minute each, each pool's quota
//! enforced by the offline model. Every execution runs the deployed definition with the real handlers.
//!
//! It prints the model-time makespan (first upload to last email), the wait from upload to slot and
//! from upload to email (p50, p95, max), the throttled model requests, the peak number of executions
//! waiting for a slot and each pool's busiest minute, and writes the table to
//! `bench/extra/capacity.md`. `cargo bench -p imagegen-cli --bench capacity` (release);
//! `CAPACITY_COUNT` (10000), `CAPACITY_MINUTES` (240) and `CAPACITY_POOLS`
//! (`us-west-2=20,us-east-1=20,us-east-2=20`) change the workload. Under `cargo test --benches` it
//! runs 60 executions over 8 minutes and writes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use imagegen_core::config::vars;
use imagegen_core::pools;
use imagegen_local::FakeModelBehavior;
use imagegen_local::sfn::{ExecutionRecord, Status};
use imagegen_local_pipeline::pipeline::execution_of;
use imagegen_local_pipeline::{LocalPipeline, PipelineOptions};
use imagegen_statemachine::{EventType, SeededRng};

mod common;

use common::{measuring, percentile, workload};

/// Arrivals on a triangle: the rate rises linearly to its peak at the middle of the window and falls
/// to zero at its end. The i-th of `count` arrives where the cumulative curve reaches i - 1/2 (the
/// plan's own discretisation, `bench/capacity_fluid.py`).
fn arrival_minutes(count: usize, minutes: f64) -> Vec<f64> {
    let n = count as f64;
    let peak = 2.0 * n / minutes;
    (1..=count)
        .map(|i| {
            let a = i as f64 - 0.5;
            if a <= n / 2.0 {
                (a * minutes / peak).sqrt()
            } else {
                minutes - ((n - a) * minutes / peak).sqrt()
            }
        })
        .collect()
}

fn at(record: &ExecutionRecord, kind: EventType, last: bool) -> Option<DateTime<Utc>> {
    let mut events = record.history.iter().filter(|e| e.event_type == kind);
    let event = if last {
        events.next_back()
    } else {
        events.next()
    }?;
    DateTime::parse_from_rfc3339(&event.timestamp)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn minutes(d: Duration) -> String {
    format!("{:.2} min", d.as_secs_f64() / 60.0)
}

fn since(from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
    (to - from).to_std().unwrap_or_default()
}

fn main() {
    let count = workload("CAPACITY_COUNT", 10_000, 60);
    let window = workload("CAPACITY_MINUTES", 240, 8) as f64;
    let pools_text = std::env::var("CAPACITY_POOLS")
        .unwrap_or_else(|_| "us-west-2=20,us-east-1=20,us-east-2=20".to_owned());
    let pools = pools::parse(Some(&pools_text), 20).unwrap();
    let quotas: BTreeMap<String, u32> = pools
        .iter()
        .map(|p| (p.place.name().unwrap().to_owned(), p.rpm))
        .collect();
    let dir = std::env::temp_dir().join(format!("imagegen-capacity-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let real = Instant::now();
    // `--fast-retries`' runtime: one thread, the clock paused and jumping over waits.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    let (records, uploads, model, emails) = runtime.block_on(async {
        let options = PipelineOptions {
            behavior: FakeModelBehavior {
                pool_quota_rpm: quotas.clone(),
                max_image_side: Some(32),
                ..FakeModelBehavior::default()
            },
            overrides: [(vars::MODEL_POOLS.to_owned(), pools::format(&pools))].into(),
            rng: Arc::new(SeededRng::new(23)),
            ..PipelineOptions::default()
        };
        let pipeline = LocalPipeline::open(&dir, options).unwrap();
        let start = tokio::time::Instant::now();
        let mut names = Vec::with_capacity(count);
        let mut uploads = Vec::with_capacity(count);
        for (i, minute) in arrival_minutes(count, window).into_iter().enumerate() {
            tokio::time::sleep_until(start + Duration::from_secs_f64(minute * 60.0)).await;
            uploads.push(pipeline.clock().now());
            let event = pipeline
                .put_prompt(
                    &format!("capacity-{i:05}.txt"),
                    format!("capacity prompt {i}: a lighthouse at dusk").into_bytes(),
                )
                .await
                .unwrap();
            names.push(execution_of(&pipeline.deliver(event).await.unwrap()).unwrap());
        }
        let mut records = Vec::with_capacity(count);
        for name in &names {
            records.push(pipeline.wait(name).await.unwrap());
        }
        let emails = pipeline.aws().list_messages().unwrap().len();
        (records, uploads, pipeline.aws().model_stats(), emails)
    });
    let _ = std::fs::remove_dir_all(&dir);

    let succeeded = records
        .iter()
        .filter(|r| r.status == Status::Succeeded)
        .count();
    assert_eq!(succeeded, count, "every execution SUCCEEDED");
    assert_eq!(emails, count, "one email each");
    let mut to_slot = Vec::with_capacity(count);
    let mut to_email = Vec::with_capacity(count);
    // (time, +1 arrival / -1 slot) for the number waiting for a slot.
    let mut steps = Vec::with_capacity(2 * count);
    let mut last_email = uploads[0];
    for (record, &upload) in records.iter().zip(&uploads) {
        let slot = at(record, EventType::WaitStateExited, true).expect("a slot was waited for");
        let end = at(record, EventType::ExecutionSucceeded, false).expect("it ended");
        to_slot.push(since(upload, slot));
        to_email.push(since(upload, end));
        steps.push((upload, 1i64));
        steps.push((slot, -1));
        last_email = last_email.max(end);
    }
    to_slot.sort();
    to_email.sort();
    steps.sort();
    let (mut waiting, mut peak, mut peak_at) = (0i64, 0i64, uploads[0]);
    for (t, step) in steps {
        waiting += step;
        if waiting > peak {
            (peak, peak_at) = (waiting, t);
        }
    }
    let busiest = model.busiest_minutes_by_pool();
    for (pool, n) in &busiest {
        let quota = quotas.get(pool).copied().unwrap_or(0) as usize;
        assert!(
            *n <= quota + 1,
            "{pool}: {n} requests in a minute, quota {quota}"
        );
    }
    let total_rpm: u32 = quotas.values().sum();
    let spread = |d: &[Duration]| {
        format!(
            "{} / {} / {}",
            minutes(percentile(d, 50.0)),
            minutes(percentile(d, 95.0)),
            minutes(*d.last().unwrap())
        )
    };
    let mut table = String::new();
    let _ = writeln!(
        table,
        "| {count} executions, triangular arrivals over {window} min, pools {} ({total_rpm} a minute in all) | measured |",
        quotas
            .iter()
            .map(|(p, r)| format!("{p} {r}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(table, "| --- | --- |");
    let rows = [
        (
            "executions SUCCEEDED, emails".to_owned(),
            format!("{succeeded}, {emails}"),
        ),
        (
            "makespan, first upload to last email (model time)".to_owned(),
            minutes(since(uploads[0], last_email)),
        ),
        (
            "upload to slot, p50 / p95 / max".to_owned(),
            spread(&to_slot),
        ),
        (
            "upload to email, p50 / p95 / max".to_owned(),
            spread(&to_email),
        ),
        (
            "model requests (throttled)".to_owned(),
            format!("{} ({})", model.calls, model.throttled),
        ),
        (
            "peak executions waiting for a slot".to_owned(),
            format!(
                "{peak}, at minute {:.1}",
                since(uploads[0], peak_at).as_secs_f64() / 60.0
            ),
        ),
        (
            "busiest 60 s per pool".to_owned(),
            busiest
                .iter()
                .map(|(p, n)| format!("{p} {n}"))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "real time (this machine)".to_owned(),
            format!("{:.0} s", real.elapsed().as_secs_f64()),
        ),
    ];
    for (name, value) in rows {
        let _ = writeln!(table, "| {name} | {value} |");
    }
    println!("{table}");
    if measuring() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../bench/extra/capacity.md");
        std::fs::write(
            path,
            format!(
                "# The capacity benchmark\n\nWritten by `cli/benches/capacity.rs` (`cargo bench -p imagegen-cli \
                 --bench capacity`); this run: a {} build, on the engine's paused clock, {} CPU(s). See \
                 docs/capacity.md, \"Backed by runs\".\n\n{table}",
                if cfg!(debug_assertions) { "debug" } else { "release" },
                std::thread::available_parallelism().map_or(1, usize::from)
            ),
        )
        .unwrap();
    }
}
