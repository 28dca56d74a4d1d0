//! `imagegen rehearse`: the offline twin built from the cloud assembly `cdk synth` wrote, instead
//! of from the CLI's own settings, on the same kind of loopback endpoint as `imagegen serve`.
//!
//! The assembly is read and resolved by [`imagegen_rehearse`] (the template's parameters,
//! conditions and intrinsics, in the twin's account and the stack's Region); what is rehearsed and
//! what is not is printed before anything starts, and a property that would change behaviour and
//! cannot be reproduced stops the start (exit status 2). The twin ([`imagegen_rehearse::twin`])
//! runs each function as its own process, the assembly's `bootstrap` (under `qemu-user` for arm64
//! on x86_64) or, with `--native`, a host build of its crate, behind a local Lambda Runtime API.
//! The console of `serve` is served on the same endpoint at `/console/` (`console.rs`: its
//! changes are the administrator's requests to the endpoint).
//! Ctrl-C stops as `serve` does: no new requests, running executions get a grace period, the
//! others are recorded ABORTED, and every function process is stopped.

mod banner;
mod console;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use imagegen_console::{Backend as _, Console};
use imagegen_local::server;
use imagegen_rehearse::twin::{self, Runtime, Twin, TwinOptions};
use imagegen_rehearse::{Assembly, Inventory, Plan, Stack, StackChoice, StartError};
use tokio::net::TcpListener;

use crate::args::{Cli, RehearseArgs};
use crate::commands::{behavior, writer_lock};
use crate::error::CliError;
use crate::interrupt::interrupted;
use crate::serve::stop::{NOTIFICATION_SETTLE, Stopping};

/// The command as people type it: in its lock, its interrupt and its stop messages.
const COMMAND: &str = "imagegen rehearse";

/// Rehearse until Ctrl-C; returns the exit code.
pub async fn rehearse(
    cli: &Cli,
    args: &RehearseArgs,
    out: &mut (dyn Write + Send),
) -> Result<u8, CliError> {
    let start = std::time::Instant::now();
    let runtime = runtime(args)?;
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
    if !bound.ip().is_loopback() {
        return Err(CliError::Usage(
            "imagegen rehearse listens on loopback only (--listen 127.0.0.1:PORT)".to_owned(),
        ));
    }
    // HTTPS, as AWS's endpoints are (`aws:SecureTransport` is true, a TLS-only bucket policy
    // admits the requests); the same port answers plain HTTP too, which such a policy refuses.
    let endpoint = crate::serve::endpoint_url(bound).replacen("http://", "https://", 1);
    lock.set_address(&endpoint)?;

    let assembly = Assembly::load(&args.assembly, &stack_choice(args)).map_err(start_error)?;
    let mut options = assembly.stack_options();
    options.endpoint = Some(endpoint.clone());
    options.parameters = args
        .parameters
        .iter()
        .map(|p| p.parse())
        .collect::<Result<_, _>>()
        .map_err(|e: imagegen_rehearse::TemplateError| start_error(e))?;
    let stack = Stack::new(assembly.template(), options).map_err(start_error)?;
    let inventory = Inventory::take(&stack).map_err(start_error)?;
    let plan = Plan::make(&assembly, &stack, &inventory).map_err(start_error)?;
    if plan.state_machines.is_empty() {
        return Err(CliError::Usage(format!(
            "{}: the stack {} has no state machine; it is not this project's pipeline",
            args.assembly.display(),
            stack.name()
        )));
    }
    writeln!(
        out,
        "imagegen rehearse: stack {} from {}\n",
        stack.name(),
        args.assembly.display()
    )
    .ok();
    for line in inventory.report() {
        writeln!(out, "{line}").ok();
    }
    let iam = imagegen_rehearse::Authorizer::from_stack(&stack)
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let findings = imagegen_rehearse::wiring::check(&plan, &iam, stack.region())
        .map_err(|e| CliError::Usage(e.to_string()))?;
    for finding in &findings {
        writeln!(out, "! would fail when deployed: {finding}").ok();
    }
    let twin = Twin::build(
        plan,
        &stack,
        TwinOptions {
            data_dir: cli.data_dir.clone(),
            endpoint: endpoint.clone(),
            runtime,
            behavior: behavior(&cli.fake)?,
        },
    )
    .map_err(|e| CliError::Usage(e.to_string()))?;
    twin.aws().sfn().recover().await?;
    let pending = twin.notifications().deliver_pending().await?;
    if pending > 0 {
        eprintln!(
            "imagegen rehearse: {pending} S3 notification(s) recorded by the last process delivered"
        );
    }
    let backend = Arc::new(console::Rehearsal::new(&twin, &endpoint)?);
    let live = crate::serve::live_bus(twin.aws().sfn(), backend.state_machine_arn());
    let console = Arc::new(Console::new(backend, live, &endpoint));
    let router = twin
        .router()
        .map_err(|e| CliError::Usage(e.to_string()))?
        .with_page(
            imagegen_console::PREFIX,
            Arc::clone(&console) as Arc<dyn server::Page>,
        );
    let mappings = twin.start_mappings();
    let outputs = twin::outputs(&stack, &endpoint).map_err(|e| CliError::Usage(e.to_string()))?;
    let interrupt = interrupted(COMMAND);
    write!(
        out,
        "{}",
        banner::banner(
            &endpoint,
            &cli.data_dir,
            twin.administrator(),
            twin.ca_path(),
            stack.region(),
            &outputs,
            start.elapsed()
        )
    )
    .ok();
    out.flush().ok();

    let tls = twin
        .server_tls()
        .map_err(|e| CliError::Usage(e.to_string()))?;
    // The console's event streams never end by themselves: they are closed as the server stops.
    let stopping = async {
        interrupt.await;
        console.close();
    };
    server::serve(listener, Arc::new(router), Some(tls), stopping).await;
    for mapping in &mappings {
        mapping.abort();
    }
    let code = Stopping {
        command: COMMAND,
        grace_seconds: args.grace_seconds,
    }
    .run(
        out,
        twin.aws().sfn(),
        twin.notifications().settle(NOTIFICATION_SETTLE),
        twin.shutdown(),
    )
    .await;
    drop(lock);
    Ok(code)
}

fn start_error(e: impl Into<StartError>) -> CliError {
    CliError::Usage(e.into().to_string())
}

fn stack_choice(args: &RehearseArgs) -> StackChoice {
    match &args.stack {
        Some(name) => StackChoice::Named(name.clone()),
        None => StackChoice::ThePipeline,
    }
}

/// What runs the functions: a host build with `--native` (next to this executable unless a
/// directory is given), else the assembly's bootstraps, with `qemu-aarch64` from PATH for those
/// the host cannot run.
fn runtime(args: &RehearseArgs) -> Result<Runtime, CliError> {
    if let Some(dir) = &args.native {
        let dir = match dir {
            // Absolute: a function's process runs in this directory, and a relative program path
            // would name another file from there.
            Some(dir) => std::path::absolute(dir)
                .map_err(|e| CliError::Usage(format!("--native {}: {e}", dir.display())))?,
            None => std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent().map(PathBuf::from))
                .ok_or_else(|| {
                    CliError::Usage(
                        "--native: this executable's directory is unknown; give one (--native DIR)"
                            .to_owned(),
                    )
                })?,
        };
        return Ok(Runtime::Native { dir });
    }
    Ok(Runtime::Assembly {
        qemu: find_on_path("qemu-aarch64"),
    })
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}
