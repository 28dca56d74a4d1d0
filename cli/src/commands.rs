//! What each subcommand does.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use imagegen_core::config::{Env, ProcessEnv, vars};
use imagegen_core::display::escape_controls;
use imagegen_deployed_client::api::Api;
use imagegen_local::bedrock::behavior::per_pool;
use imagegen_local::sfn::ExecutionRecord;
use imagegen_local::{ClientOptions, DataDir, FakeModelBehavior, LocalAws, LocalError, WriterLock};
use imagegen_local_pipeline::{LocalPipeline, LocalPipelineError, PipelineOptions};

use crate::args::{AwsCommand, AwsStartArgs, BurstArgs, Cli, Command, DefinitionArgs, FakeArgs};
use crate::burst::{self, BurstPlan, PlanPool};
use crate::error::CliError;
use crate::interrupt::interrupted;
use crate::progress::Progress;
use crate::report::Report;
use crate::{input, unrecorded, views};

/// The offline model's behaviour: the `IMAGEGEN_FAKE_*` variables, then the flags.
pub fn behavior(fake: &FakeArgs) -> Result<FakeModelBehavior, CliError> {
    let mut b = FakeModelBehavior::from_env()?;
    if let Some(text) = &fake.fake_throttle {
        let (every, pools) = per_pool("--fake-throttle", Some(text.clone()), 0)?;
        b.throttle = every.unwrap_or(b.throttle);
        b.pool_throttle.extend(pools);
    }
    if let Some(n) = fake.fake_unavailable {
        b.unavailable = n;
    }
    if let Some(n) = fake.fake_corrupt {
        b.corrupt = n;
    }
    if let Some(ms) = fake.fake_latency_ms {
        b.latency = std::time::Duration::from_millis(ms);
    }
    if let Some(text) = &fake.fake_quota_rpm {
        let (every, pools) = per_pool("--fake-quota-rpm", Some(text.clone()), 1)?;
        b.quota_rpm = every.or(b.quota_rpm);
        b.pool_quota_rpm.extend(pools);
    }
    if let Some(px) = fake.fake_max_image_side {
        b.max_image_side = Some(px);
    }
    b.filter_terms.extend(fake.fake_filter.iter().cloned());
    b.retired.extend(fake.fake_retired.iter().cloned());
    Ok(b)
}

/// Handler settings from the process environment (only the names the handlers read).
pub fn env_overrides() -> HashMap<String, String> {
    vars::ALL
        .iter()
        .filter_map(|name| ProcessEnv.var(name).map(|v| ((*name).to_owned(), v)))
        .collect()
}

/// Run the command; returns the process exit code (0: done, 1: the execution did not succeed).
pub async fn execute(cli: &Cli, out: &mut (dyn Write + Send)) -> Result<u8, CliError> {
    match &cli.command {
        Command::Run { run, definition } => {
            let input = input::build(run)?;
            let definition = read_definition(definition)?;
            let (_lock, pipeline) = open(cli, "imagegen run", definition).await?;
            let name = imagegen_local_pipeline::input::execution_name(&input);
            let interrupt = interrupted("imagegen run");
            writeln!(out, "Execution {name}").ok();
            let record = tokio::select! {
                record = pipeline.run(&name, &input) => record?,
                () = interrupt => return stop_interrupted(&pipeline, out).await,
            };
            finish(&pipeline, &record, out).await
        }
        Command::Upload { file, definition } => {
            let definition = read_definition(definition)?;
            let (_lock, pipeline) = open(cli, "imagegen upload", definition).await?;
            writeln!(
                out,
                "Uploading {} to s3://{}/prompts/",
                escape_controls(&file.display().to_string()),
                pipeline.bucket()
            )
            .ok();
            let interrupt = interrupted("imagegen upload");
            let record = tokio::select! {
                record = pipeline.upload(file) => record?,
                () = interrupt => return stop_interrupted(&pipeline, out).await,
            };
            finish(&pipeline, &record, out).await
        }
        Command::Burst(args) => run_burst(cli, args, out).await,
        Command::Aws {
            command: AwsCommand::Start(args),
        } => {
            let sdk = imagegen_aws::load_sdk_config().await;
            let sfn = aws_sdk_sfn::Client::new(&sdk);
            let s3 = aws_sdk_s3::Client::new(&sdk);
            aws_start(&sfn, &s3, args, out).await
        }
        Command::Aws {
            command: AwsCommand::Post(args),
        } => {
            let api = Api::from_environment(&args.api.api_url).await?;
            crate::aws::post(&api, args, out).await
        }
        Command::Aws {
            command: AwsCommand::Get(args),
        } => {
            let api = Api::from_environment(&args.api.api_url).await?;
            crate::aws::get(&api, args, out).await
        }
        Command::Aws {
            command: AwsCommand::Models(args),
        } => {
            let sdk = imagegen_aws::load_sdk_config().await;
            let bedrock = aws_sdk_bedrock::Client::new(&sdk);
            crate::models::deployed(&bedrock, args, out).await
        }
        Command::Models => crate::models::offline(&behavior(&cli.fake)?, &env_overrides(), out),
        Command::Serve(args) => crate::serve::serve(cli, args, out).await,
        Command::Rehearse(args) => crate::rehearse::rehearse(cli, args, out).await,
        Command::Executions => {
            let aws = open_data(&cli.data_dir)?;
            let listing = aws.sfn().executions()?;
            write!(out, "{}", views::executions_table(&listing.records)).ok();
            write!(out, "{}", views::unreadable_note(&listing.unreadable)).ok();
            Ok(0)
        }
        Command::History { name, json } => {
            let aws = open_data(&cli.data_dir)?;
            let record = aws
                .sfn()
                .execution(name)
                .map_err(|e| match e {
                    // A name that cannot be one is a usage problem, not the data directory's.
                    LocalError::InvalidExecutionName { .. } => CliError::Usage(e.to_string()),
                    e => e.into(),
                })?
                .ok_or_else(|| LocalPipelineError::NoSuchExecution(name.clone()))?;
            if *json {
                let events = serde_json::json!({"events": record.history});
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&events).unwrap_or_default()
                )
                .ok();
            } else {
                writeln!(out, "{}  {}", escape_controls(&record.name), record.status).ok();
                write!(out, "{}", views::history_table(&record.history)).ok();
            }
            Ok(0)
        }
    }
}

/// `imagegen aws start` with the given clients (tests hand it mocked ones).
pub async fn aws_start(
    sfn: &aws_sdk_sfn::Client,
    s3: &aws_sdk_s3::Client,
    args: &AwsStartArgs,
    out: &mut (dyn Write + Send),
) -> Result<u8, CliError> {
    let input = input::build(&args.run)?;
    let name = imagegen_local_pipeline::input::execution_name(&input);
    let poll = std::time::Duration::from_millis(args.poll_ms);
    let followed = imagegen_deployed_client::start_and_follow(
        sfn,
        &args.state_machine_arn,
        &name,
        &input,
        poll,
        out,
    )
    .await?;
    writeln!(out, "\n{name}  {}", followed.status.as_str()).ok();
    if !followed.succeeded() {
        if let Some(error) = &followed.error {
            writeln!(out, "Error:       {}", escape_controls(error)).ok();
        }
        if let Some(cause) = &followed.cause {
            let reason = imagegen_core::error::cause_message(cause);
            writeln!(out, "Reason:      {}", escape_controls(&reason)).ok();
        }
        return Ok(1);
    }
    let files =
        imagegen_deployed_client::download_results(s3, &followed, &args.out.join(&name)).await?;
    for file in files {
        writeln!(out, "Downloaded:  {}", file.display()).ok();
    }
    Ok(0)
}

/// `imagegen burst`: exit status 0 when every check of the summary passed.
async fn run_burst(
    cli: &Cli,
    args: &BurstArgs,
    out: &mut (dyn Write + Send),
) -> Result<u8, CliError> {
    let definition = read_definition(&args.definition)?;
    let _lock = writer_lock(&cli.data_dir, "imagegen burst")?;
    let mut behavior = behavior(&cli.fake)?;
    behavior.max_image_side = Some(args.image_side);
    let mut overrides = env_overrides();
    let pools = match &args.pools {
        // Each pool's quota is the offline model's, and the pipeline paces each at it.
        Some(text) => {
            let pools = imagegen_core::pools::parse(Some(text), args.quota_rpm)
                .map_err(|e| CliError::Usage(format!("--pools: {e}")))?;
            let plan: Vec<PlanPool> = pools
                .iter()
                .map(|p| PlanPool {
                    name: p.place.name().unwrap_or_default().to_owned(),
                    rpm: p.rpm,
                })
                .collect();
            behavior.quota_rpm = None;
            behavior.pool_quota_rpm = plan.iter().map(|p| (p.name.clone(), p.rpm)).collect();
            overrides.insert(
                vars::MODEL_POOLS.to_owned(),
                imagegen_core::pools::format(&pools),
            );
            plan
        }
        None => {
            behavior.quota_rpm = Some(args.quota_rpm);
            let pace = args.pace_rpm.unwrap_or(args.quota_rpm);
            overrides.insert(vars::MODEL_QUOTA_RPM.to_owned(), pace.to_string());
            // One pool: the model in the pipeline's own Region.
            vec![PlanPool {
                name: imagegen_local::config::DEFAULT_REGION.to_owned(),
                rpm: args.quota_rpm,
            }]
        }
    };
    let options = PipelineOptions {
        behavior,
        overrides,
        definition,
        ..PipelineOptions::default()
    };
    let pipeline = LocalPipeline::open(&cli.data_dir, options)?;
    pipeline.recover().await?;
    tell_unrecorded(&pipeline).await;
    note_pending_notifications(&pipeline)?;
    let plan = BurstPlan {
        count: args.count,
        rejected: args.rejected,
        duplicates: args.duplicates,
        pools,
    };
    if !cli.fast_retries {
        writeln!(
            out,
            "Without --fast-retries the burst runs in real time: at least {:.0} minutes.",
            args.count as f64 / f64::from(plan.total_rpm().max(1))
        )
        .ok();
    }
    if args.pools.is_none() {
        writeln!(
            out,
            "Model quota {} requests a minute; the pipeline paces at {} (MODEL_QUOTA_RPM).",
            args.quota_rpm,
            args.pace_rpm.unwrap_or(args.quota_rpm)
        )
        .ok();
    } else {
        let each: Vec<String> = plan
            .pools
            .iter()
            .map(|p| format!("{} at {}", p.name, p.rpm))
            .collect();
        writeln!(
            out,
            "Model pools (MODEL_POOLS), each paced at its quota: {} requests a minute, {} in all.",
            each.join(", "),
            plan.total_rpm()
        )
        .ok();
    }
    let summary = burst::run(&pipeline, &plan, out, Box::new(std::io::stdout())).await?;
    writeln!(out, "{summary}").ok();
    Ok(if summary.passed() { 0 } else { 1 })
}

/// `--definition`'s text, checked: read before anything is opened, so that a definition that
/// cannot run starts nothing and leaves the data directory alone.
pub fn read_definition(args: &DefinitionArgs) -> Result<Option<String>, CliError> {
    args.definition
        .as_deref()
        .map(imagegen_local_pipeline::definition::read)
        .transpose()
        .map_err(CliError::from)
}

/// The pipeline of the data directory, for a command that writes to it (`command` names it to a
/// refused second writer), running `definition` (the deployed one when `None`): its writer lock is
/// held while the returned lock lives.
async fn open(
    cli: &Cli,
    command: &str,
    definition: Option<String>,
) -> Result<(WriterLock, LocalPipeline), CliError> {
    let lock = writer_lock(&cli.data_dir, command)?;
    let options = PipelineOptions {
        behavior: behavior(&cli.fake)?,
        overrides: env_overrides(),
        definition,
        ..PipelineOptions::default()
    };
    let pipeline = LocalPipeline::open(&cli.data_dir, options)?;
    pipeline.recover().await?;
    tell_unrecorded(&pipeline).await;
    note_pending_notifications(&pipeline)?;
    let progress = Arc::new(Progress::new(Box::new(std::io::stdout())));
    pipeline.on_event(move |_, event| progress.event(event));
    Ok((lock, pipeline))
}

/// The cause recorded on the execution of a `run` or `upload` stopped by Ctrl-C.
pub const INTERRUPTED_CAUSE: &str = "imagegen was interrupted (Ctrl-C) before the execution ended";

/// The exit code of a command stopped by Ctrl-C (128 + SIGINT, as a shell reports it).
pub const INTERRUPTED_EXIT: u8 = 130;

/// After Ctrl-C in `run` or `upload`: the execution is stopped now (no grace: the user asked to
/// stop) and recorded `ABORTED`, its user gets the failure email through the backstop (as a
/// StopExecution on AWS, and as `serve`'s stop), then the command exits 130. Without this the
/// record stayed `RUNNING` with no email until the next command on the directory.
async fn stop_interrupted(
    pipeline: &LocalPipeline,
    out: &mut (dyn Write + Send),
) -> Result<u8, CliError> {
    let report = pipeline
        .aws()
        .sfn()
        .shutdown(std::future::ready(()), INTERRUPTED_CAUSE)
        .await;
    writeln!(out, "\nInterrupted.").ok();
    let pending = pipeline.aws().sfn().retry_pending().await;
    for name in report.aborted.iter().chain(&report.finished) {
        let status = match pipeline.aws().sfn().execution(name) {
            Ok(Some(record)) => record.status.to_string(),
            _ => "not known".to_owned(),
        };
        let recorded = if pending.iter().any(|p| &p.record.name == name) {
            "not yet recorded: see below"
        } else {
            "recorded"
        };
        writeln!(out, "{}  {status} ({recorded})", escape_controls(name)).ok();
    }
    out.flush().ok();
    unrecorded::tell(&pending, &pipeline.aws().data_dir().executions_dir());
    Ok(INTERRUPTED_EXIT)
}

/// S3 notifications `serve` recorded and did not deliver are `serve`'s to deliver: this command
/// runs only its own execution and would leave theirs running when it exits. It says so, once.
fn note_pending_notifications(pipeline: &LocalPipeline) -> Result<(), CliError> {
    let pending = pipeline.aws().notifications().pending()?.pending.len();
    if pending > 0 {
        eprintln!(
            "imagegen: {pending} S3 notification(s) of uploads to `imagegen serve` are not \
             delivered yet; the next `imagegen serve` on this directory delivers them"
        );
    }
    Ok(())
}

/// Take the data directory's writer lock for `command` (creating the directory if needed).
pub fn writer_lock(dir: &Path, command: &str) -> Result<WriterLock, CliError> {
    let data = DataDir::open(dir)?;
    WriterLock::acquire(&data, command).map_err(|e| match e {
        e @ LocalError::DataDirInUse { .. } => CliError::InUse(e),
        e => e.into(),
    })
}

fn open_data(dir: &Path) -> Result<LocalAws, CliError> {
    Ok(LocalAws::open_with(
        dir,
        ClientOptions::default(),
        FakeModelBehavior::default(),
    )?)
}

/// Print the execution's report; exit 0 when it succeeded, 1 when not, and
/// [`unrecorded::UNRECORDED_EXIT`] when its end or email is not yet on disk (each said on stderr).
async fn finish(
    pipeline: &LocalPipeline,
    record: &ExecutionRecord,
    out: &mut (dyn Write + Send),
) -> Result<u8, CliError> {
    let report = Report::new(record, pipeline.aws());
    writeln!(out, "{report}").ok();
    out.flush().ok();
    if tell_unrecorded(pipeline).await > 0 {
        return Ok(unrecorded::UNRECORDED_EXIT);
    }
    Ok(if report.succeeded() { 0 } else { 1 })
}

/// One more try at the ends a full disk held back, then each still pending said on stderr;
/// returns how many.
async fn tell_unrecorded(pipeline: &LocalPipeline) -> usize {
    let pending = pipeline.aws().sfn().retry_pending().await;
    unrecorded::tell(&pending, &pipeline.aws().data_dir().executions_dir())
}

/// The runtime: multi-threaded, or (`--fast-retries`) single-threaded on a paused clock that jumps
/// over waits while nothing else can run.
pub fn runtime(fast_retries: bool) -> std::io::Result<tokio::runtime::Runtime> {
    if fast_retries {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    }
}
