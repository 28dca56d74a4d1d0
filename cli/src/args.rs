//! The command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::builder::PossibleValuesParser;
use clap::{Args, Parser, Subcommand};
use imagegen_core::config::vars;
use imagegen_core::model::{DEFAULT_MODEL_ID, KNOWN_MODELS, Lifecycle};
use imagegen_core::types::OutputFormat;

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
    /// Throttle the next N InvokeModel calls (ThrottlingException); `POOL=N` throttles the next N
    /// calls to one pool (a Region or an inference profile id), others answering as usual.
    #[arg(long, global = true, value_name = "N|POOL=N,...")]
    pub fake_throttle: Option<String>,
    /// Answer the next N calls with ServiceUnavailableException.
    #[arg(long, global = true, value_name = "N")]
    pub fake_unavailable: Option<u32>,
    /// Block prompts containing TERM with the content filter (repeatable; TERM must not be empty).
    #[arg(long, global = true, value_name = "TERM", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub fake_filter: Vec<String>,
    /// Return corrupt images (neither PNG nor JPEG) for the next call, or the next N with `--fake-corrupt=N`.
    // `require_equals`: with an optional value, `--fake-corrupt run "a cat"` would read `run` as N.
    #[arg(
        long,
        global = true,
        value_name = "N",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "1"
    )]
    pub fake_corrupt: Option<u32>,
    /// Make each model call take this long.
    #[arg(long, global = true, value_name = "MS")]
    pub fake_latency_ms: Option<u64>,
    /// Give the model a quota of N InvokeModel requests a minute in every pool, or `POOL=N` in one
    /// (a Region or an inference profile id); more are ThrottlingException.
    #[arg(long, global = true, value_name = "N|POOL=N,...")]
    pub fake_quota_rpm: Option<String>,
    /// Draw pictures at most PX pixels on their longest side (faster local runs).
    #[arg(long, global = true, value_name = "PX")]
    pub fake_max_image_side: Option<u32>,
    /// Answer every call naming MODEL_ID (or an inference profile of it) as Bedrock answers a
    /// model past its end of life (repeatable, or a comma list).
    #[arg(long, global = true, value_name = "MODEL_ID", value_delimiter = ',', value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub fake_retired: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the pipeline on a prompt (console-style input) and wait for the result.
    Run {
        #[command(flatten)]
        run: RunArgs,
        #[command(flatten)]
        definition: DefinitionArgs,
    },
    /// Upload a prompt file (.txt or .json) to the local bucket under prompts/ and follow the
    /// execution its S3 notification starts.
    Upload {
        /// The prompt file.
        file: PathBuf,
        #[command(flatten)]
        definition: DefinitionArgs,
    },
    /// Upload COUNT prompt files at once against a model with a per-minute quota, follow every
    /// execution, and check that all succeed at the quota's pace (use --fast-retries: a burst of
    /// 1,000 at 20 a minute is 50 minutes of model time).
    Burst(BurstArgs),
    /// List executions, newest first.
    Executions,
    /// The models the pipeline allows and the others it knows, each active, legacy or retired on
    /// Bedrock and when (and which the offline model was told are retired: --fake-retired).
    Models,
    /// The deployed pipeline on AWS.
    Aws {
        #[command(subcommand)]
        command: AwsCommand,
    },
    /// Serve the offline S3, Step Functions, SNS and SQS, and the HTTP API, on a loopback endpoint,
    /// for the AWS CLI, SDKs and curl (`--endpoint-url`); uploads under prompts/, queued messages
    /// and POST /generate-image run the pipeline. Ctrl-C stops.
    Serve(ServeArgs),
    /// Rehearse the deploy: run what `cdk synth` wrote (the template's resources, wiring and
    /// policies, each function as its built bootstrap behind a local Lambda Runtime API) on a
    /// loopback endpoint like serve's. Ctrl-C stops.
    Rehearse(RehearseArgs),
    /// Show one execution's history.
    History {
        /// The execution name (see `imagegen executions`).
        name: String,
        /// Print the raw events (GetExecutionHistory's JSON) instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// `--definition`, for the commands that run the local pipeline.
#[derive(Debug, Clone, Default, Args)]
pub struct DefinitionArgs {
    /// Run this state-machine definition instead of the deployed one: JSONPath or JSONata (e.g.
    /// one edited in Workflow Studio, or statemachine/image-pipeline.jsonata.asl.json), its Tasks
    /// naming the pipeline's functions with the deployed definition's ${...} placeholders
    /// (${ValidatePromptFunctionArn}, ...).
    #[arg(long, value_name = "FILE")]
    pub definition: Option<PathBuf>,
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
    #[arg(long, help = model_help())]
    pub model: Option<String>,
    /// The images' format: png (the default) or jpeg; Stability models only.
    #[arg(long, value_name = "FORMAT", value_parser = PossibleValuesParser::new(OutputFormat::ALL.map(OutputFormat::as_str)))]
    pub format: Option<String>,
    /// Console-style JSON input ({"prompt": ..., "width": ...}); flags override its fields.
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// The address to listen on; loopback only unless this names another one, which needs
    /// --allow-remote (port 0: any free port, printed at start).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4566")]
    pub listen: SocketAddr,
    /// Let --listen name an address other machines can reach. The endpoint then takes a secret key
    /// made for this data directory (kept in it, printed at start) instead of the published one,
    /// and the console asks for the login token in the URL printed at start.
    #[arg(long)]
    pub allow_remote: bool,
    /// On Ctrl-C, how long running executions may take to end before they are recorded ABORTED.
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    pub grace_seconds: u64,
    #[command(flatten)]
    pub definition: DefinitionArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RehearseArgs {
    /// The cloud assembly `cdk synth` wrote.
    #[arg(long, value_name = "DIR", default_value = "cdk/cdk.out")]
    pub assembly: PathBuf,
    /// The stack to rehearse (the one with a state machine unless named).
    #[arg(long, value_name = "NAME")]
    pub stack: Option<String>,
    /// The loopback address to listen on (port 0: any free port, printed at start).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4566")]
    pub listen: SocketAddr,
    /// A stack parameter, as `cdk deploy --parameters` takes it (repeat for more).
    #[arg(long = "parameters", value_name = "KEY=VALUE")]
    pub parameters: Vec<String>,
    /// Run host builds of the functions' crates instead of the assembly's bootstraps (faster; the
    /// directory holding them defaults to this executable's).
    #[arg(long, value_name = "DIR", num_args = 0..=1)]
    pub native: Option<Option<PathBuf>>,
    /// On Ctrl-C, how long running executions may take to end before they are recorded ABORTED.
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    pub grace_seconds: u64,
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
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "pools")]
    pub pace_rpm: Option<u32>,
    /// Call the model in several pools, each a Region or an inference profile id with its quota:
    /// `us-west-2=20,us-east-1=20,us.stability.stable-image-core-v1:1=20` (the pipeline's
    /// MODEL_POOLS and the offline model's quotas). Instead of --quota-rpm.
    #[arg(long, value_name = "NAME=RPM,...", conflicts_with = "quota_rpm")]
    pub pools: Option<String>,
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
    #[command(flatten)]
    pub definition: DefinitionArgs,
}

#[derive(Debug, Subcommand)]
pub enum AwsCommand {
    /// Start an execution of the deployed state machine, follow it, and download the results.
    Start(AwsStartArgs),
    /// Send a prompt to the deployed HTTP API (POST /generate-image, signed with your AWS
    /// credentials) and print its answer; with --wait, wait for the result too.
    Post(AwsPostArgs),
    /// Ask the deployed HTTP API where a request is (GET /images/{requestId}, signed with your AWS
    /// credentials): its status, and its links when it is done.
    Get(AwsGetArgs),
    /// Ask Bedrock (GetFoundationModel, in the configured Region) where each model is in its
    /// lifecycle: ACTIVE or LEGACY, and its dates where Bedrock gives them.
    Models(AwsModelsArgs),
}

#[derive(Debug, Clone, Args)]
pub struct AwsModelsArgs {
    /// A model to look up, as the deployment allows it (its `modelId` and `allowedModelIds`; an
    /// inference profile id is looked up as the model it routes to); repeatable, or a comma list.
    /// Default: every model imagegen knows.
    #[arg(long = "model", value_name = "MODEL_ID", value_delimiter = ',', value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub models: Vec<String>,
    /// The deployment's model pools (its `modelPools`, `NAME=RPM,...`): each model is also looked
    /// up in each Region pool's Region, where its lifecycle may differ (a profile pool's model is
    /// looked up in the configured Region).
    #[arg(long, value_name = "NAME=RPM,...")]
    pub pools: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ApiArgs {
    /// The deployed HTTP API (the `ApiUrl` output of the `Imagegen` stack), or `imagegen serve`'s
    /// endpoint.
    #[arg(long, env = "IMAGEGEN_API_URL")]
    pub api_url: String,
}

#[derive(Debug, Clone, Args)]
pub struct AwsPostArgs {
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub api: ApiArgs,
    /// Makes a retry of this command start nothing new (the same key, the same request).
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// Then wait up to this long for the result (at most 25 seconds per request; asked again
    /// until it is done or the time is up).
    #[arg(long, value_name = "SECONDS")]
    pub wait: Option<u64>,
}

#[derive(Debug, Clone, Args)]
pub struct AwsGetArgs {
    /// The request id (from `imagegen aws post`) or its status URL.
    pub request: String,
    #[command(flatten)]
    pub api: ApiArgs,
    /// Hold the answer up to this many seconds (at most 25) for the request to end.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(0..=http_api::status::MAX_WAIT_SECONDS))]
    pub wait: Option<u64>,
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

/// `--model`'s help, from the models the project knows (so it names the current ones and the legacy
/// ones with their end of life).
fn model_help() -> String {
    let models: Vec<String> = KNOWN_MODELS
        .iter()
        .map(|m| match m.lifecycle {
            Lifecycle::Active => m.id.to_owned(),
            // "(legacy: end of life on Bedrock June 2026)", likewise retired.
            other => format!("{} ({other})", m.id),
        })
        .collect();
    format!(
        "A Bedrock model id (default: the pipeline's {}, {DEFAULT_MODEL_ID} unless set). Known \
         models: {}",
        vars::DEFAULT_MODEL_ID,
        models.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn a_bare_fake_corrupt_leaves_the_subcommand_alone() {
        let cli = Cli::try_parse_from(["imagegen", "--fake-corrupt", "run", "a cat"]).unwrap();
        assert_eq!(cli.fake.fake_corrupt, Some(1));
        assert!(
            matches!(&cli.command, Command::Run { run, .. } if run.prompt.as_deref() == Some("a cat")),
            "{cli:?}"
        );
        let cli = Cli::try_parse_from(["imagegen", "run", "a cat", "--fake-corrupt=3"]).unwrap();
        assert_eq!(cli.fake.fake_corrupt, Some(3));
    }

    #[test]
    fn serve_listens_on_loopback_by_default() {
        let cli = Cli::try_parse_from(["imagegen", "serve"]).unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("{cli:?}")
        };
        assert_eq!(args.listen.to_string(), "127.0.0.1:4566");
        assert!(args.listen.ip().is_loopback());
        let cli = Cli::try_parse_from(["imagegen", "serve", "--listen", "0.0.0.0:8080"]).unwrap();
        assert!(matches!(cli.command, Command::Serve(a) if a.listen.port() == 8080));
        assert!(Cli::try_parse_from(["imagegen", "serve", "--listen", "localhost"]).is_err());
        let cli = Cli::try_parse_from([
            "imagegen",
            "serve",
            "--listen",
            "0.0.0.0:0",
            "--allow-remote",
        ])
        .unwrap();
        assert!(matches!(cli.command, Command::Serve(a) if a.allow_remote));
    }

    #[test]
    fn an_empty_fake_filter_is_refused() {
        let err =
            Cli::try_parse_from(["imagegen", "--fake-filter", "", "run", "a cat"]).unwrap_err();
        assert!(err.to_string().contains("--fake-filter"), "{err}");
    }

    #[test]
    fn model_help_names_every_known_model_and_marks_the_legacy_ones() {
        let help = Cli::command()
            .find_subcommand_mut("run")
            .unwrap()
            .render_long_help()
            .to_string();
        for model in KNOWN_MODELS {
            assert!(
                help.contains(model.id),
                "{} missing from:\n{help}",
                model.id
            );
        }
        let help = model_help();
        assert!(
            help.contains(
                "amazon.titan-image-generator-v2:0 (legacy: end of life on Bedrock June 2026)"
            ),
            "{help}"
        );
        assert!(
            help.contains(
                "amazon.nova-canvas-v1:0 (legacy: end of life on Bedrock September 2026)"
            ),
            "{help}"
        );
        assert!(help.contains("stability.sd3-5-large-v1:0,"), "{help}");
    }

    #[test]
    fn the_commands_that_run_the_local_pipeline_take_a_definition() {
        for command in [
            &["run", "a cat"][..],
            &["upload", "cat.txt"],
            &["burst"],
            &["serve"],
        ] {
            let args = ["imagegen"]
                .iter()
                .chain(command)
                .chain(&["--definition", "mine.asl.json"]);
            let cli = Cli::try_parse_from(args).unwrap();
            let definition = match &cli.command {
                Command::Run { definition, .. } | Command::Upload { definition, .. } => definition,
                Command::Burst(args) => &args.definition,
                Command::Serve(args) => &args.definition,
                _ => unreachable!(),
            };
            assert_eq!(
                definition.definition.as_deref(),
                Some(std::path::Path::new("mine.asl.json")),
                "{command:?}"
            );
        }
        // Not where the deployed state machine runs, nor where nothing runs.
        let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:imagegen";
        for command in [
            &["aws", "start", "a cat", "--state-machine-arn", arn][..],
            &["executions"],
        ] {
            let args = ["imagegen"].iter().chain(command);
            assert!(Cli::try_parse_from(args.clone()).is_ok(), "{command:?}");
            let args = args.chain(&["--definition", "mine.asl.json"]);
            assert!(Cli::try_parse_from(args).is_err(), "{command:?}");
        }
    }

    #[test]
    fn fake_retired_takes_model_ids_repeated_or_as_a_comma_list() {
        let cli = Cli::try_parse_from([
            "imagegen",
            "--fake-retired",
            "stability.stable-image-core-v1:1,amazon.nova-canvas-v1:0",
            "--fake-retired",
            "us.stability.sd3-5-large-v1:0",
            "run",
            "a cat",
        ])
        .unwrap();
        assert_eq!(
            cli.fake.fake_retired,
            [
                "stability.stable-image-core-v1:1",
                "amazon.nova-canvas-v1:0",
                "us.stability.sd3-5-large-v1:0"
            ]
        );
        assert!(Cli::try_parse_from(["imagegen", "--fake-retired", "", "models"]).is_err());
        let cli = Cli::try_parse_from(["imagegen", "aws", "models", "--model", "a.b,c.d"]).unwrap();
        assert!(
            matches!(&cli.command, Command::Aws { command: AwsCommand::Models(a) } if a.models == ["a.b", "c.d"]),
            "{cli:?}"
        );
    }

    #[test]
    fn format_takes_the_output_formats_only() {
        let run = |format: &str| Cli::try_parse_from(["imagegen", "run", "x", "--format", format]);
        assert!(run("jpeg").is_ok());
        assert!(run("png").is_ok());
        assert!(run("gif").is_err());
    }
}
