//! `imagegen serve`: the pipeline's stand-ins on one loopback endpoint, so that unmodified AWS
//! clients (the AWS CLI, boto3, the SDKs) use them with `--endpoint-url`.
//!
//! It opens the same [`LocalPipeline`] as `imagegen run` (so the handlers run exactly as there),
//! with presigned links naming the address it listens on, and serves its S3, Step Functions and SNS
//! through [`imagegen_local::server`]. Uploads of prompt files are delivered to the start-execution
//! handler as S3 notifications
//! ([`bucket_notifications`](imagegen_local_pipeline::bucket_notifications)), at least once: each is recorded in the
//! data directory before the upload is answered, and those a stop or crash left undelivered are
//! delivered when `serve` next starts. A web console is served on the same
//! endpoint at `/console/` ([`imagegen_console`]). The front doors are there too
//! ([`api_and_queue`]): the HTTP API on its paths (SigV4 with the local credentials, service
//! `execute-api`), and the SQS queue, whose messages a poller feeds to the queue consumer in
//! batches. It holds the data directory's writer lock while it runs, and on Ctrl-C (or SIGTERM)
//! stops accepting, lets running executions end for a grace period, records the others `ABORTED`,
//! and exits 0 (3 when a full disk left an end or email unwritten: [`crate::unrecorded`]). Beyond loopback it needs `--allow-remote`, and then uses a secret key (`remote.rs`).

mod banner;
mod remote;
pub(crate) mod stop;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use imagegen_console::{Console, LiveBus};
use imagegen_local::apigateway;
use imagegen_local::config::AccessKey;
use imagegen_local::server::{self, Protocol, local_router};
use imagegen_local::sfn::SfnService;
use imagegen_local::sqs::mapping::Batch;
use imagegen_local_pipeline::bucket_notifications::BucketNotifications;
use imagegen_local_pipeline::{LocalPipeline, PipelineOptions, api_and_queue};
use imagegen_statemachine::{EventType, HistoryEvent};
use tokio::net::TcpListener;

use crate::args::{Cli, ServeArgs};
use crate::commands::{behavior, env_overrides, read_definition, writer_lock};
use crate::error::CliError;
use crate::interrupt::interrupted;

/// The command as people type it: in its lock, its interrupt and its stop messages.
const COMMAND: &str = "imagegen serve";

/// Run the endpoint until Ctrl-C; returns the exit code.
pub async fn serve(
    cli: &Cli,
    args: &ServeArgs,
    out: &mut (dyn Write + Send),
) -> Result<u8, CliError> {
    if cli.fast_retries {
        return Err(CliError::Usage(
            "--fast-retries cannot be used with serve: its paused clock would read a server \
             waiting for requests as idle and jump every timer"
                .to_owned(),
        ));
    }
    remote::check_listen(args.listen, args.allow_remote)?;
    let definition = read_definition(&args.definition)?;
    // The lock first: a second `serve` on the same directory is told who holds it, rather than
    // that the port is taken.
    let mut lock = writer_lock(&cli.data_dir, COMMAND)?;
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|source| CliError::Listen {
            address: args.listen,
            source,
        })?;
    let bound = listener.local_addr().map_err(|source| CliError::Listen {
        address: args.listen,
        source,
    })?;
    let endpoint = endpoint_url(bound);
    lock.set_address(&endpoint)?;
    let remote = if args.allow_remote {
        Some(remote::key_of(&cli.data_dir)?)
    } else {
        None
    };
    let options = PipelineOptions {
        key: remote
            .as_ref()
            .map_or_else(AccessKey::published, |r| r.key.clone()),
        behavior: behavior(&cli.fake)?,
        overrides: env_overrides(),
        s3_endpoint: endpoint.clone(),
        definition,
        ..PipelineOptions::default()
    };
    let pipeline = Arc::new(LocalPipeline::open(&cli.data_dir, options)?);
    pipeline.recover().await?;
    let sfn = pipeline.aws().sfn();
    crate::unrecorded::tell(&sfn.pending_ends(), sfn.store().dir());
    // After recovery (what the last process left running is ended), before any upload is taken.
    let notifications = BucketNotifications::new(Arc::clone(&pipeline));
    let pending = notifications.deliver_pending().await?;
    if pending.taken + pending.left > 0 {
        eprintln!(
            "imagegen serve: {} S3 notification(s) recorded by the last process delivered; {} left \
             for the next start",
            pending.taken, pending.left
        );
    }
    let live = live_bus(pipeline.aws().sfn(), pipeline.state_machine_arn());
    let mut console = Console::new(Arc::clone(&pipeline), live, &endpoint);
    if let Some(remote) = &remote {
        console = console.with_login(remote.console_login.clone());
    }
    let console = Arc::new(console);
    let api = api_and_queue::rest_api(&pipeline)?;
    let api_paths = api.path_prefixes();
    let mut router = local_router(pipeline.aws(), Some(notifications.hook()))?
        .with_page(
            imagegen_console::PREFIX,
            Arc::clone(&console) as Arc<dyn server::Page>,
        )
        .with_service(apigateway::SERVICE, Protocol::Rest, Arc::new(api));
    for prefix in &api_paths {
        router = router.with_signed_path(prefix, apigateway::SERVICE);
    }
    let mapping = api_and_queue::queue_mapping(&pipeline)?;
    let sqs = Arc::clone(pipeline.aws().sqs());
    let queue = mapping.queue().to_owned();
    let poller = tokio::spawn(async move {
        mapping.run(sqs, |batch| log_batch(&queue, batch)).await;
    });
    // Watched from before the banner: scripts send Ctrl-C as soon as they read it.
    let interrupt = interrupted(COMMAND);
    write!(
        out,
        "{}",
        banner::banner(
            &endpoint,
            bound,
            &pipeline,
            &cli.data_dir,
            remote.as_ref().map(|r| r.console_login.as_str())
        )
    )
    .ok();
    out.flush().ok();

    // The console's event streams never end by themselves: they are closed as the server stops.
    let stopping = async {
        interrupt.await;
        console.close();
    };
    server::serve(listener, Arc::new(router), None, stopping).await;
    // Like Lambda's poller, it stops between batches or mid-batch: a batch cut short comes back
    // after its visibility timeout (the messages are on disk), and its started executions are
    // not started twice (their names come from the message ids).
    poller.abort();
    let code = stop::Stopping {
        command: COMMAND,
        grace_seconds: args.grace_seconds,
    }
    .run(
        out,
        pipeline.aws().sfn(),
        notifications.settle(stop::NOTIFICATION_SETTLE),
        async {},
    )
    .await;
    drop(lock);
    Ok(code)
}

/// The URL clients use for `bound`: an unspecified address (`0.0.0.0`, `::`) is reached through
/// loopback. Presigned links are signed for exactly this host and port.
pub fn endpoint_url(bound: SocketAddr) -> String {
    let ip = match bound.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => std::net::Ipv4Addr::LOCALHOST.into(),
        ip if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, bound.port()))
}

/// A line for a queue batch with messages left to come back.
fn log_batch(queue: &str, batch: &Batch) {
    if batch.returned.is_empty() {
        return;
    }
    let why = batch
        .error
        .as_deref()
        .map(|e| format!(" ({e})"))
        .unwrap_or_default();
    eprintln!(
        "! sqs {queue}: {} of {} message(s) not started{why}; they come back after the visibility \
         timeout, and go to the dead-letter queue after {} deliveries: {}",
        batch.returned.len(),
        batch.delivered,
        queue_consumer::DEFAULT_MAX_RECEIVE_COUNT,
        batch.returned.join(", ")
    );
}

/// The console's live bus, hearing `sfn`: every history event goes to the log and to the
/// console's open pages; each end of an execution of `state_machine_arn` (once its record is
/// saved) to the pages too. `rehearse` hears its twin the same way.
pub(crate) fn live_bus(sfn: &SfnService, state_machine_arn: &str) -> LiveBus {
    let live = LiveBus::new();
    let heard = live.clone();
    sfn.set_listener(move |name, event| {
        log_execution(name, event);
        heard.history(name, event);
    });
    sfn.add_rule(live.ended_rule(state_machine_arn));
    live
}

/// One line per execution start and end, as they happen.
fn log_execution(name: &str, event: &HistoryEvent) {
    let detail = |field: &str| {
        event
            .detail()
            .and_then(|d| d.get(field))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let line = match event.event_type {
        EventType::ExecutionStarted => format!("▶ {name}  started"),
        EventType::ExecutionSucceeded => format!("✓ {name}  SUCCEEDED"),
        EventType::ExecutionFailed => {
            format!("✗ {name}  FAILED: {}", detail("error").unwrap_or_default())
        }
        EventType::ExecutionTimedOut => format!("✗ {name}  TIMED_OUT"),
        _ => return,
    };
    println!("{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_name_a_reachable_host() {
        let url = |s: &str| endpoint_url(s.parse().unwrap());
        assert_eq!(url("127.0.0.1:4566"), "http://127.0.0.1:4566");
        assert_eq!(url("0.0.0.0:8080"), "http://127.0.0.1:8080");
        assert_eq!(url("[::]:9000"), "http://[::1]:9000");
        assert_eq!(url("192.168.1.5:4566"), "http://192.168.1.5:4566");
    }
}
