//! Local end-to-end figures: latency of one execution (1024x1024 image, three thumbnails, email) and
//! executions per second over 200 executions, through the local Step Functions, the real handlers
//! and the offline AWS stand-ins.
//!
//! `cargo bench -p imagegen-cli --bench e2e` (release profile). Prints a Markdown table and writes it
//! to `bench/extra/e2e.md`. `E2E_LATENCY_RUNS` (default 30), `E2E_THROUGHPUT_RUNS` (200) and
//! `E2E_CONCURRENCY` (4 executions in flight) change the workload.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use imagegen_core::config::vars;
use imagegen_local::sfn::Status;
use imagegen_local_pipeline::{LocalPipeline, PipelineOptions};
use serde_json::json;
use tokio::sync::Semaphore;

mod common;

use common::{measuring, percentile, workload};

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn main() {
    let latency_runs = workload("E2E_LATENCY_RUNS", 30, 1);
    let throughput_runs = workload("E2E_THROUGHPUT_RUNS", 200, 2);
    let concurrency = workload("E2E_CONCURRENCY", 4, 2).max(1);
    let warm_runs = if measuring() { 3 } else { 1 };
    let dir = std::env::temp_dir().join(format!("imagegen-e2e-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (latencies, total, in_flight) = runtime.block_on(async {
        // Model slots 1 ms apart (the highest quota accepted): these figures are the pipeline's own
        // cost; at a real quota each execution would wait for its slot (see `imagegen burst`).
        let fastest = reserve_model_slot::QUOTA_RPM_RANGE.end().to_string();
        let options = PipelineOptions {
            overrides: HashMap::from([(vars::MODEL_QUOTA_RPM.to_owned(), fastest)]),
            ..PipelineOptions::default()
        };
        let pipeline = Arc::new(LocalPipeline::open(&dir, options).unwrap());
        let input = |i: usize| json!({"prompt": "a lighthouse at dusk", "seed": i});
        for i in 0..warm_runs {
            let r = pipeline.run(&format!("warm-{i}"), &input(i)).await.unwrap();
            assert_eq!(r.status, Status::Succeeded, "{r:?}");
        }
        let mut latencies = Vec::with_capacity(latency_runs);
        for i in 0..latency_runs {
            let started = Instant::now();
            let r = pipeline.run(&format!("lat-{i}"), &input(i)).await.unwrap();
            latencies.push(started.elapsed());
            assert_eq!(r.status, Status::Succeeded, "{r:?}");
        }
        latencies.sort();

        let gate = Arc::new(Semaphore::new(concurrency));
        let started = Instant::now();
        let mut tasks = Vec::with_capacity(throughput_runs);
        for i in 0..throughput_runs {
            let pipeline = Arc::clone(&pipeline);
            let gate = Arc::clone(&gate);
            tasks.push(tokio::spawn(async move {
                let _permit = gate.acquire_owned().await.unwrap();
                let t = Instant::now();
                let r = pipeline
                    .run(&format!("tput-{i}"), &input(1000 + i))
                    .await
                    .unwrap();
                assert_eq!(r.status, Status::Succeeded, "{r:?}");
                t.elapsed()
            }));
        }
        let mut in_flight = Vec::with_capacity(throughput_runs);
        for task in tasks {
            in_flight.push(task.await.unwrap());
        }
        in_flight.sort();
        (latencies, started.elapsed(), in_flight)
    });
    let _ = std::fs::remove_dir_all(&dir);

    let per_second = throughput_runs as f64 / total.as_secs_f64();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let table = format!(
        "### Local end-to-end (imagegen CLI pipeline)\n\n\
         One execution: ValidatePrompt, GenerateImage (offline model, 1024x1024 PNG), \
         GenerateThumbnails (128/256/512 JPEG), NotifySuccess (manifest + email), through the local \
         Step Functions stand-in and the real SDK clients; release build, {cores} CPU(s).\n\n\
         | measure | value |\n| --- | --- |\n\
         | latency p50 (sequential, {latency_runs} runs) | {} ms |\n\
         | latency p95 (sequential) | {} ms |\n\
         | latency max (sequential) | {} ms |\n\
         | throughput ({throughput_runs} executions, {concurrency} in flight) | {per_second:.1} executions/s |\n\
         | latency p50 / p95 under that load | {} / {} ms |\n",
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 95.0)),
        ms(percentile(&latencies, 100.0)),
        ms(percentile(&in_flight, 50.0)),
        ms(percentile(&in_flight, 95.0)),
    );
    println!("{table}");
    if !measuring() {
        return; // a check that it runs, not a measurement
    }
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/extra/e2e.md");
    match std::fs::write(&out, &table) {
        Ok(()) => println!("written to {}", out.display()),
        Err(e) => eprintln!("could not write {}: {e}", out.display()),
    }
}
