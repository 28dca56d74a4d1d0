//! A burst on the paused clock: many uploads at once against a model with a per-minute quota. CI's
//! guard for the model-slot schedule (`imagegen burst` runs the same code at any size).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;

use imagegen_cli::burst::{self, BurstPlan, PlanPool};
use imagegen_core::config::vars;
use imagegen_local::FakeModelBehavior;
use imagegen_local_pipeline::{LocalPipeline, PipelineOptions};
use imagegen_statemachine::SeededRng;

/// The pipeline's own Region, where the model is called when there are no pools.
const HOME: &str = "us-east-1";

fn home(rpm: u32) -> Vec<PlanPool> {
    vec![PlanPool {
        name: HOME.into(),
        rpm,
    }]
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn pipeline(label: &str, quota_rpm: u32, pace_rpm: u32) -> (TempDir, LocalPipeline) {
    pipeline_with(label, quota_rpm, pace_rpm, None, &[])
}

/// A pipeline on its own data directory, the model at `quota_rpm`, the schedule at `pace_rpm`, with
/// further function settings `more` (`MAX_SLOT_WAIT_MINUTES`, ...).
fn pipeline_with(
    label: &str,
    quota_rpm: u32,
    pace_rpm: u32,
    definition: Option<&str>,
    more: &[(&str, &str)],
) -> (TempDir, LocalPipeline) {
    let dir = std::env::temp_dir().join(format!("imagegen-burst-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let options = PipelineOptions {
        behavior: FakeModelBehavior {
            quota_rpm: Some(quota_rpm),
            max_image_side: Some(32),
            ..FakeModelBehavior::default()
        },
        overrides: more
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .chain([(vars::MODEL_QUOTA_RPM.to_owned(), pace_rpm.to_string())])
            .collect(),
        rng: Arc::new(SeededRng::new(11)),
        definition: definition.map(str::to_owned),
        ..PipelineOptions::default()
    };
    let pipeline = LocalPipeline::open(&dir, options).unwrap();
    (TempDir(dir), pipeline)
}

#[tokio::test(start_paused = true)]
async fn a_hundred_uploads_at_ten_a_minute_all_succeed_at_the_quota() {
    let (_dir, pipeline) = pipeline("hundred", 10, 10);
    let plan = BurstPlan {
        count: 100,
        rejected: 2,
        duplicates: 5,
        pools: home(10),
    };
    let mut out = Vec::new();
    let summary = burst::run(&pipeline, &plan, &mut out, Box::new(std::io::sink()))
        .await
        .unwrap();
    let text = summary.to_string();
    assert!(summary.passed(), "{text}");
    assert_eq!(
        (summary.good_succeeded, summary.succeeded, summary.failed),
        (100, 100, 2)
    );
    assert_eq!(summary.rejected_as_meant, 2, "{text}");
    assert_eq!(
        (summary.emails, summary.executions_with_one_email),
        (102, 102)
    );
    assert_eq!(summary.executions, 102, "re-deliveries start nothing");
    assert_eq!((summary.images, summary.model_succeeded), (100, 100));
    assert_eq!(
        summary.model_calls, 100,
        "no request outside a slot: {text}"
    );
    assert_eq!(summary.over_quota, 0);
    assert_eq!(summary.busiest_minutes[HOME], 10, "exactly the quota");
    // The last of 100 slots 6 s apart starts 99 × 6 s = 9.9 min after the first.
    assert!(
        (9.9..10.0).contains(&summary.makespan_minutes),
        "{}",
        summary.makespan_minutes
    );
    assert!(summary.ratio() <= 1.0, "{text}");
    let last = text.lines().last().unwrap();
    assert_eq!(
        last,
        "burst 100: 100 succeeded, 2 failed, 102 emails, makespan 9.9 min (ideal 10.0 min, 0.99x)"
    );
}

#[tokio::test(start_paused = true)]
async fn pacing_above_the_quota_costs_throttles_and_slots_not_executions() {
    // Paced at 30 a minute against a quota of 10: the model throttles once the quota's minute is
    // spent, and each throttled execution takes a later slot after a backoff.
    let (_dir, pipeline) = pipeline("too-fast", 10, 30);
    let plan = BurstPlan {
        count: 20,
        rejected: 0,
        duplicates: 0,
        pools: home(10),
    };
    let summary = burst::run(&pipeline, &plan, &mut Vec::new(), Box::new(std::io::sink()))
        .await
        .unwrap();
    let text = summary.to_string();
    assert_eq!(summary.good_succeeded, 20, "{text}");
    assert!(summary.over_quota > 0, "{text}");
    assert_eq!(
        summary.model_calls,
        20 + summary.over_quota,
        "each throttle is one more request, in a slot of its own"
    );
    assert_eq!(summary.executions_with_one_email, 20);
    assert!(
        summary.busiest_minutes[HOME] > 10,
        "Bedrock saw more than the quota: the check says so"
    );
    assert!(!summary.passed(), "{text}");
}

/// The summary reads what each function returned, not the states' outputs, so a burst through the
/// JSONata twin (whose states keep results in variables) is counted as well.
#[tokio::test(start_paused = true)]
async fn a_burst_through_the_jsonata_definition_is_counted_the_same() {
    let jsonata = include_str!("../../../statemachine/image-pipeline.jsonata.asl.json");
    let (_dir, pipeline) = pipeline_with("jsonata", 60, 60, Some(jsonata), &[]);
    let plan = BurstPlan {
        count: 6,
        rejected: 1,
        duplicates: 1,
        pools: home(60),
    };
    let summary = burst::run(&pipeline, &plan, &mut Vec::new(), Box::new(std::io::sink()))
        .await
        .unwrap();
    let text = summary.to_string();
    assert!(summary.passed(), "{text}");
    assert_eq!((summary.good_succeeded, summary.rejected_as_meant), (6, 1));
    assert_eq!(
        (summary.emails, summary.executions_with_one_email),
        (7, 7),
        "{text}"
    );
    assert_eq!(summary.images, 6, "{text}");
}

#[tokio::test(start_paused = true)]
async fn a_burst_past_the_longest_wait_refuses_the_excess_at_once_with_a_queue_full_email() {
    // 30 uploads at 10 a minute and a wait of at most a minute: slots 0 s, 6 s, ... 60 s fit (11);
    // the other 19 are refused at once, each with one email saying the queue is full.
    let (_dir, pipeline) =
        pipeline_with("full", 10, 10, None, &[(vars::MAX_SLOT_WAIT_MINUTES, "1")]);
    let plan = BurstPlan {
        count: 30,
        rejected: 0,
        duplicates: 0,
        pools: home(10),
    };
    let summary = burst::run(&pipeline, &plan, &mut Vec::new(), Box::new(std::io::sink()))
        .await
        .unwrap();
    let text = summary.to_string();
    assert_eq!((summary.succeeded, summary.failed), (11, 19), "{text}");
    assert_eq!(
        (summary.emails, summary.executions_with_one_email),
        (30, 30),
        "nothing silent: {text}"
    );
    assert_eq!(summary.model_calls, 11, "a refused request takes no slot");
    let emails = pipeline.aws().list_messages().unwrap();
    let full: Vec<_> = emails
        .iter()
        .filter(|m| {
            m.subject
                .as_deref()
                .is_some_and(|s| s.contains("(QueueFull)"))
        })
        .collect();
    assert_eq!(full.len(), 19);
    assert!(
        full.iter()
            .all(|m| m.body.contains("not queued") && m.body.contains("MAX_SLOT_WAIT_MINUTES")),
        "{}",
        full[0].body
    );
}

/// Three pools of 20 a minute each: the burst is worked off at 60 a minute, no pool's minute over
/// its own quota; with one pool throttling its next calls, only its share slows and nothing fails.
#[tokio::test(start_paused = true)]
async fn three_pools_work_a_burst_off_at_their_paces_together() {
    for (label, throttled) in [("pools", None), ("pools-throttled", Some("us-east-2"))] {
        let pools = "us-west-2=20,us-east-1=20,us-east-2=20";
        let dir =
            std::env::temp_dir().join(format!("imagegen-burst-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let _cleanup = TempDir(dir.clone());
        let behavior = FakeModelBehavior {
            pool_quota_rpm: [("us-west-2", 20), ("us-east-1", 20), ("us-east-2", 20)]
                .map(|(k, v)| (k.to_owned(), v))
                .into(),
            pool_throttle: throttled.map(|p| (p.to_owned(), 15)).into_iter().collect(),
            max_image_side: Some(32),
            ..FakeModelBehavior::default()
        };
        let options = PipelineOptions {
            behavior,
            overrides: [(vars::MODEL_POOLS.to_owned(), pools.to_owned())].into(),
            rng: Arc::new(SeededRng::new(11)),
            ..PipelineOptions::default()
        };
        let pipeline = LocalPipeline::open(&dir, options).unwrap();
        let plan = BurstPlan {
            count: 300,
            rejected: 0,
            duplicates: 0,
            pools: ["us-west-2", "us-east-1", "us-east-2"]
                .map(|name| PlanPool {
                    name: name.into(),
                    rpm: 20,
                })
                .into(),
        };
        let summary = burst::run(&pipeline, &plan, &mut Vec::new(), Box::new(std::io::sink()))
            .await
            .unwrap();
        let text = summary.to_string();
        assert!(summary.passed(), "{label}: {text}");
        assert_eq!((summary.succeeded, summary.failed), (300, 0), "{text}");
        for pool in ["us-west-2", "us-east-1", "us-east-2"] {
            assert!(
                (19..=20).contains(&summary.busiest_minutes[pool]),
                "{label}: each pool at its pace: {text}"
            );
        }
        match throttled {
            None => {
                assert_eq!(summary.over_quota, 0, "{text}");
                assert!(summary.ratio() <= 1.0, "{text}");
            }
            Some(_) => {
                assert_eq!(summary.model_calls, 315, "15 throttled calls: {text}");
                assert!(summary.ratio() <= 1.05, "only its share slowed: {text}");
            }
        }
    }
}
