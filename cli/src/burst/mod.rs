//! `imagegen burst`: many prompt files uploaded at once, as a person drops a folder into `prompts/`,
//! followed through the whole pipeline against an offline model with a per-minute quota.
//!
//! Each file goes the S3 way (PutObject, then its notification to the real start-execution handler);
//! optionally some files are blank (ValidatePrompt rejects them) and some notifications are
//! delivered twice, mid-burst. Then it waits for every execution and checks what the issue asks
//! ([`summary`]): every good prompt SUCCEEDED, one email per execution, no duplicate executions or
//! images, no pool of the model asked more often than its pace (plus the design's allowance) in any
//! 60 seconds, and a makespan within 1.25x of count / the pools' paces together.
//!
//! Run with `--fast-retries`, the engine's clock is paused and jumps over waits, so a 50-minute
//! burst takes the real time its work takes.

pub mod summary;

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use imagegen_local_pipeline::pipeline::execution_of;
use imagegen_local_pipeline::{LocalPipeline, LocalPipelineError};
use imagegen_statemachine::EventType;

use crate::error::CliError;
pub use summary::{BurstSummary, Check};

/// What to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BurstPlan {
    /// Good prompt files.
    pub count: usize,
    /// Blank prompt files (rejected by ValidatePrompt), spread through the burst.
    pub rejected: usize,
    /// Notifications of the first uploads delivered a second time, once all are uploaded.
    pub duplicates: usize,
    /// The model's pools, each with its quota in requests per minute (the ideal makespan is
    /// count / the sum of the quotas).
    pub pools: Vec<PlanPool>,
}

/// One pool of a burst: its name as the offline model counts it (a Region, or an inference profile
/// id) and its quota.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanPool {
    pub name: String,
    pub rpm: u32,
}

impl BurstPlan {
    /// The pools' quotas together, in requests per minute.
    pub fn total_rpm(&self) -> u32 {
        self.pools.iter().map(|p| p.rpm).sum()
    }
}

/// Upload the burst, wait for every execution, and sum it up. What it does goes to `out`; a line
/// for every tenth of the executions that end goes to `progress`.
pub async fn run(
    pipeline: &LocalPipeline,
    plan: &BurstPlan,
    out: &mut (dyn Write + Send),
    progress: Box<dyn Write + Send>,
) -> Result<BurstSummary, CliError> {
    let real = Instant::now();
    let emails_before = pipeline.aws().list_messages()?.len();
    let model_before = pipeline.aws().model_stats();
    let started_at = pipeline.clock().now();
    let tag = format!("{:x}", started_at.timestamp_millis());
    let done = Arc::new(AtomicUsize::new(0));
    let total = plan.count + plan.rejected;
    let step = (total / 10).max(1);
    {
        let done = Arc::clone(&done);
        let clock = Arc::clone(pipeline.clock());
        let progress = std::sync::Mutex::new(progress);
        pipeline.on_event(move |_, event| {
            if matches!(
                event.event_type,
                EventType::ExecutionSucceeded
                    | EventType::ExecutionFailed
                    | EventType::ExecutionTimedOut
            ) {
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_multiple_of(step) || n == total {
                    let minutes = (clock.now() - started_at).num_milliseconds() as f64 / 60_000.0;
                    if let Ok(mut progress) = progress.lock() {
                        let _ = writeln!(
                            progress,
                            "  {n:>5}/{total} done at {minutes:6.1} min (real {:.0} s)",
                            real.elapsed().as_secs_f64()
                        );
                    }
                }
            }
        });
    }

    writeln!(
        out,
        "Uploading {} prompt files ({} blank) to s3://{}/prompts/ at once",
        total,
        plan.rejected,
        pipeline.bucket()
    )
    .ok();
    let mut good = Vec::with_capacity(plan.count);
    let mut rejected = Vec::with_capacity(plan.rejected);
    let mut events = Vec::with_capacity(plan.duplicates);
    let reject_every = (plan.count / plan.rejected.max(1)).max(1);
    for i in 0..plan.count {
        let event = pipeline
            .put_prompt(
                &format!("burst-{tag}-{i:05}.txt"),
                format!("burst prompt {i}: a lighthouse at dusk, seen from the sea").into_bytes(),
            )
            .await?;
        if events.len() < plan.duplicates {
            events.push(event.clone());
        }
        good.push(started(pipeline.deliver(event).await?)?);
        if rejected.len() < plan.rejected && (i + 1).is_multiple_of(reject_every) {
            rejected.push(upload_blank(pipeline, &tag, rejected.len()).await?);
        }
    }
    while rejected.len() < plan.rejected {
        rejected.push(upload_blank(pipeline, &tag, rejected.len()).await?);
    }
    let mut redelivered = Vec::with_capacity(events.len());
    for event in events {
        redelivered.push(started(pipeline.deliver(event).await?)?);
    }

    let mut good_records = Vec::with_capacity(good.len());
    for name in &good {
        good_records.push(pipeline.wait(name).await?);
    }
    let mut rejected_records = Vec::with_capacity(rejected.len());
    for name in &rejected {
        rejected_records.push(pipeline.wait(name).await?);
    }
    let emails = pipeline.aws().list_messages()?;
    let burst_executions: BTreeSet<String> = pipeline
        .aws()
        .sfn()
        .executions()?
        .records
        .into_iter()
        .map(|r| r.name)
        .filter(|n| n.starts_with(&format!("burst-{tag}-")))
        .collect();
    let model = pipeline.aws().model_stats();
    Ok(BurstSummary::new(summary::Observed {
        plan: plan.clone(),
        started_at,
        good: &good_records,
        rejected: &rejected_records,
        redelivered_to: &redelivered,
        executions: burst_executions.len(),
        emails: emails.get(emails_before..).unwrap_or_default(),
        model_calls: model.calls - model_before.calls,
        model_succeeded: model.succeeded - model_before.succeeded,
        over_quota: model.over_quota - model_before.over_quota,
        busiest_minutes: model.busiest_minutes_by_pool(),
        images_root: &pipeline.aws().data_dir().s3_root().join(pipeline.bucket()),
        real_seconds: real.elapsed().as_secs_f64(),
    }))
}

async fn upload_blank(pipeline: &LocalPipeline, tag: &str, n: usize) -> Result<String, CliError> {
    let event = pipeline
        .put_prompt(&format!("burst-{tag}-blank-{n:03}.txt"), b"   \n".to_vec())
        .await?;
    started(pipeline.deliver(event).await?)
}

fn started(summary: start_execution::Summary) -> Result<String, CliError> {
    execution_of(&summary).ok_or_else(|| {
        LocalPipelineError::NotStarted(
            summary
                .skipped
                .first()
                .map(|s| format!("{} was skipped: {}", s.key, s.reason))
                .or_else(|| {
                    summary
                        .failed
                        .first()
                        .map(|f| format!("{} did not start: {}", f.key, f.reason))
                })
                .unwrap_or_else(|| "the event had no prompt upload".to_owned()),
        )
        .into()
    })
}
