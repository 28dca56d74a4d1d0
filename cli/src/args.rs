//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// imagegen on one machine: the pipeline's state machine, run in-process with the real handlers and
/// offline stand-ins for S3, Bedrock, SNS and Step Functions.
#[derive(Debug, Parser)]
#[command(name = "imagegen", version)]
pub struct Cli {
    /// Where buckets, emails and executions are kept (created if missing).
    #[arg(
        long,
        global = true,
        env = "IMAGEGEN_DATA_DIR",
        default_value = ".imagegen"
    )]
    pub data_dir: PathBuf,

    /// Make Retry waits instant: the engine runs on a paused clock that jumps over waits (history
    /// timestamps show the waits AWS would make; task timeouts still hold).
    #[arg(long, global = true)]
    pub fast_retries: bool,

    #[command(flatten)]
    pub fake: FakeArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Failure injection for the offline model (on top of the `IMAGEGEN_FAKE_*` variables).
#[derive(Debug, Clone, Default, Args)]
pub struct FakeArgs {
    /// Throttle the next N InvokeModel calls (ThrottlingException).
    #[arg(long, global = true, value_name = "N")]
    pub fake_throttle: Option<u32>,
    /// Answer the next N calls with ServiceUnavailableException.
    #[arg(long, global = true, value_name = "N")]
    pub fake_unavailable: Option<u32>,
    /// Block prompts containing TERM with the content filter (repeatable).
    #[arg(long, global = true, value_name = "TERM")]
    pub fake_filter: Vec<String>,
    /// Return images that are not PNGs for the next N calls (default 1).
    #[arg(long, global = true, value_name = "N", num_args = 0..=1, default_missing_value = "1")]
    pub fake_corrupt: Option<u32>,
    /// Make each model call take this long.
    #[arg(long, global = true, value_name = "MS")]
    pub fake_latency_ms: Option<u64>,
    /// Give the model a quota of N InvokeModel requests a minute; more are ThrottlingException.
    #[arg(long, global = true, value_name = "N")]
    pub fake_quota_rpm: Option<u32>,
    /// Draw pictures at most PX pixels on their longest side (faster local runs).
    #[arg(long, global = true, value_name = "PX")]
    pub fake_max_image_side: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the pipeline on a prompt (console-style input) and wait for the result.
    Run(RunArgs),
    /// Upload a prompt file (.txt or .json) to the local bucket under prompts/ and follow the
    /// execution its S3 notification starts.
    Upload {
        /// The prompt file.
        file: PathBuf,
    },
    /// Upload COUNT prompt files at once against a model with a per-minute quota, follow every
    /// execution, and check that all succeed at the quota's pace (use --fast-retries: a burst of
    /// 1,000 at 20 a minute is 50 minutes of model time).
    Burst(BurstArgs),
    /// List executions, newest first.
    Executions,
    /// The deployed pipeline on AWS.
    Aws {
        #[command(subcommand)]
        command: AwsCommand,
    },
    /// Show one execution's history.
    History {
        /// The execution name (see `imagegen executions`).
        name: String,
        /// Print the raw events (GetExecutionHistory's JSON) instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Default, Args)]
pub struct RunArgs {
    /// What to draw.
    pub prompt: Option<String>,
    /// What to keep out of the image.
    #[arg(long)]
    pub negative: Option<String>,
    /// Image size, e.g. 1024x1024.
    #[arg(long, value_name = "WxH")]
    pub size: Option<String>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Number of images.
    #[arg(long)]
    pub count: Option<u32>,
    /// A Bedrock model id (stability.stable-image-core-v1:1, amazon.nova-canvas-v1:0,
    /// amazon.titan-image-generator-v2:0).
    #[arg(long)]
    pub model: Option<String>,
    /// Console-style JSON input ({"prompt": ..., "width": ...}); flags override its fields.
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct BurstArgs {
    /// Prompt files to upload at once.
    #[arg(long, default_value_t = 100)]
    pub count: usize,
    /// The offline model's quota, in InvokeModel requests per minute.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub quota_rpm: u32,
    /// The pipeline's pacing (MODEL_QUOTA_RPM); the quota unless given. Set it above the quota to
    /// see what a quota configured too high costs.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub pace_rpm: Option<u32>,
    /// Also upload N blank prompt files, which ValidatePrompt rejects.
    #[arg(long, default_value_t = 0)]
    pub rejected: usize,
    /// Deliver the S3 notifications of the first N uploads a second time, mid-burst.
    #[arg(long, default_value_t = 0)]
    pub duplicates: usize,
    /// The offline model's pictures' longest side, in pixels (small, so a thousand render in
    /// seconds; Bedrock's are 1024 and more).
    #[arg(long, default_value_t = 64)]
    pub image_side: u32,
}

#[derive(Debug, Subcommand)]
pub enum AwsCommand {
    /// Start an execution of the deployed state machine, follow it, and download the results.
    Start(AwsStartArgs),
}

#[derive(Debug, Clone, Args)]
pub struct AwsStartArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// The deployed state machine (the `StateMachineArn` output of the `Imagegen` stack).
    #[arg(long, env = "IMAGEGEN_STATE_MACHINE_ARN")]
    pub state_machine_arn: String,
    /// Where the manifest, images and thumbnails are written (a folder per execution).
    #[arg(long, default_value = "imagegen-results")]
    pub out: PathBuf,
    /// How often to poll the execution, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub poll_ms: u64,
}
