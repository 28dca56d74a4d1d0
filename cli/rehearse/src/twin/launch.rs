//! How a function's process is started, and with what.
//!
//! By default the process is the `bootstrap` the assembly holds for the function, the artifact
//! `cdk deploy` uploads: run directly when the host has the function's architecture, else under
//! `qemu-user` (`qemu-aarch64` for an arm64 function on x86_64, with the aarch64 C library of
//! Debian's `libc6-arm64-cross` as its sysroot, since cargo-lambda links against glibc). With
//! `--native`, a host build of the same crate runs instead: the binary named after the function's
//! construct (`Imagegen/ValidatePrompt/Function/Resource` -> `validate-prompt`), for speed.
//!
//! The environment is the plan's ([`Function::process_environment`]): the template's variables,
//! what Lambda sets, the twin's endpoint, and credentials that belong to the function's role.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use imagegen_local::datadir::DataDir;
use imagegen_local::lambda::{FunctionSpec, LocalFunction, LogSink};
use imagegen_local::server::tls::client_environment;

use super::{TwinError, TwinOptions};
use crate::assembly::Packaging;
use crate::enforce::Keys;
use crate::plan::{Function, Launch, Plan};
use crate::template::Stack;

/// The variables the Lambda service sets per process, which [`LocalFunction`] fills in itself.
const PER_PROCESS: [&str; 2] = ["AWS_LAMBDA_RUNTIME_API", "AWS_LAMBDA_LOG_STREAM_NAME"];

/// The C library an aarch64 glibc binary needs under `qemu-user` (Debian's `libc6-arm64-cross`).
pub const AARCH64_SYSROOT: &str = "/usr/aarch64-linux-gnu";

/// What runs a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runtime {
    /// The assembly's `bootstrap`; `qemu` runs the ones the host cannot run itself.
    Assembly { qemu: Option<PathBuf> },
    /// Host builds of the functions' crates, found in `dir` (`target/debug`, say).
    Native { dir: PathBuf },
}

/// A process for each function of the plan, by ARN (started on its first invocation).
pub(super) fn functions(
    plan: &Plan,
    stack: &Stack<'_>,
    options: &TwinOptions,
    keys: &Keys,
    ca: &Path,
    data: &DataDir,
) -> Result<BTreeMap<String, Arc<LocalFunction>>, TwinError> {
    let logs = data.logs_dir();
    std::fs::create_dir_all(&logs).map_err(|e| {
        TwinError::resource(
            stack.name(),
            format!("the log directory {} cannot be made ({e})", logs.display()),
        )
    })?;
    let code_dir = data.code_dir();
    let ca_bundle = ca.display().to_string();
    plan.functions
        .iter()
        .map(|function| {
            let (program, args, working_dir) =
                command(function, stack, &options.runtime, &code_dir)?;
            let Some(role) = keys.function(&function.arn) else {
                return Err(TwinError::resource(
                    &function.logical_id,
                    format!("its role {} has no key", function.role_arn),
                ));
            };
            let launch = Launch {
                runtime_api: "",
                endpoint: &options.endpoint,
                ca_bundle: Some(&ca_bundle),
                access_key_id: &role.key.id,
                secret_access_key: &role.key.secret,
                session_token: &role.session_token,
                region: stack.region(),
                log_stream: "",
            };
            let mut env = function.process_environment(&launch);
            // The Rust SDK's default client trusts the CA through SSL_CERT_FILE, not
            // AWS_CA_BUNDLE (see `client_environment`).
            for (name, value) in client_environment(ca) {
                env.insert(name.to_owned(), value);
            }
            for name in PER_PROCESS {
                env.remove(name);
            }
            let spec = FunctionSpec {
                name: function.name.clone(),
                arn: function.arn.clone(),
                program,
                args,
                working_dir,
                env,
                timeout: Duration::from_secs(function.timeout_seconds),
                max_concurrency: function
                    .reserved_concurrency
                    .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            };
            let sink = LogSink::File(logs.join(format!("{}.log", function.name)));
            Ok((
                function.arn.clone(),
                Arc::new(LocalFunction::new(spec, sink)),
            ))
        })
        .collect()
}

/// The program, its arguments and its working directory (Lambda's `/var/task`).
fn command(
    function: &Function,
    stack: &Stack<'_>,
    runtime: &Runtime,
    code_dir: &Path,
) -> Result<(PathBuf, Vec<String>, PathBuf), TwinError> {
    let refuse = |why: String| TwinError::resource(&function.logical_id, why);
    match runtime {
        Runtime::Native { dir } => {
            let binary = native_binary(stack, &function.logical_id).ok_or_else(|| {
                refuse("its construct path (Metadata aws:cdk:path) names no crate".to_owned())
            })?;
            let program = dir.join(&binary);
            if !program.is_file() {
                return Err(refuse(format!(
                    "--native runs host builds, and {} is not built (run `cargo build -p {binary}`)",
                    program.display()
                )));
            }
            Ok((program, Vec::new(), dir.clone()))
        }
        Runtime::Assembly { qemu } => {
            let dir = code_directory(function, code_dir)?;
            let bootstrap = dir.join("bootstrap");
            if !bootstrap.is_file() {
                return Err(refuse(format!(
                    "its code ({}) has no bootstrap: synthesize with the functions built \
                     (`cdk synth`, or IMAGEGEN_LAMBDA_ZIPS) so the assembly holds them",
                    function.code.path.display()
                )));
            }
            if runs_natively(&function.architecture) {
                return Ok((bootstrap, Vec::new(), dir));
            }
            let Some(qemu) = qemu else {
                return Err(refuse(format!(
                    "its bootstrap is {} and this host is {}: install qemu-user (the test command \
                     does) or rehearse with --native",
                    function.architecture,
                    std::env::consts::ARCH
                )));
            };
            let mut args = Vec::new();
            if Path::new(AARCH64_SYSROOT).is_dir() {
                args.extend(["-L".to_owned(), AARCH64_SYSROOT.to_owned()]);
            }
            args.push(bootstrap.display().to_string());
            Ok((qemu.clone(), args, dir))
        }
    }
}

/// The directory Lambda would unpack the function's code into: the assembly's bundle directory
/// as it is, or a zip asset (`IMAGEGEN_LAMBDA_ZIPS`) unpacked under `<data-dir>/code/<asset>/`.
fn code_directory(function: &Function, code_dir: &Path) -> Result<PathBuf, TwinError> {
    let asset = &function.code.path;
    if function.code.packaging == Packaging::ZipDirectory || asset.is_dir() {
        return Ok(asset.clone());
    }
    let name = asset.file_stem().map_or_else(
        || function.logical_id.clone(),
        |s| s.to_string_lossy().into_owned(),
    );
    let into = code_dir.join(name);
    unpack(asset, &into).map_err(|why| {
        TwinError::resource(
            &function.logical_id,
            format!("its code {} cannot be unpacked: {why}", asset.display()),
        )
    })?;
    Ok(into)
}

/// Unpack `zip` into `into` (replacing what an earlier rehearsal unpacked there), keeping each
/// file's Unix mode as Lambda does, so `bootstrap` stays executable.
fn unpack(zip: &Path, into: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt as _;
    let file = std::fs::File::open(zip).map_err(|e| e.to_string())?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| e.to_string())?;
    let partial = into.with_extension("partial");
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial).map_err(|e| e.to_string())?;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| e.to_string())?;
        // A name that climbs out of the directory (`../x`) is skipped, never written.
        let Some(relative) = entry.enclosed_name() else {
            continue;
        };
        let path = partial.join(relative);
        if entry.is_dir() {
            std::fs::create_dir_all(&path).map_err(|e| e.to_string())?;
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        let mut out = std::fs::File::create(&path).map_err(|e| e.to_string())?;
        std::io::copy(&mut entry, &mut out).map_err(|e| e.to_string())?;
        let mode = entry.unix_mode().unwrap_or(0o644) & 0o777;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| e.to_string())?;
    }
    let _ = std::fs::remove_dir_all(into);
    std::fs::rename(&partial, into).map_err(|e| e.to_string())
}

/// Whether the host runs binaries of Lambda's `architecture` (`arm64` or `x86_64`) itself.
fn runs_natively(architecture: &str) -> bool {
    matches!(
        (architecture, std::env::consts::ARCH),
        ("arm64", "aarch64") | ("x86_64", "x86_64")
    )
}

/// The host binary of a function's crate: its construct's id in kebab case.
fn native_binary(stack: &Stack<'_>, logical_id: &str) -> Option<String> {
    let path = stack
        .template()
        .resource(logical_id)?
        .entry
        .pointer("/Metadata/aws:cdk:path")?
        .as_str()?;
    let construct = path.split('/').nth(1)?;
    Some(kebab_case(construct))
}

fn kebab_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn construct_ids_name_crates() {
        assert_eq!(kebab_case("ValidatePrompt"), "validate-prompt");
        assert_eq!(kebab_case("HttpApi"), "http-api");
        assert_eq!(kebab_case("NotifyBackstop"), "notify-backstop");
    }

    #[test]
    fn the_host_runs_its_own_architecture() {
        let host = if cfg!(target_arch = "aarch64") {
            "arm64"
        } else {
            "x86_64"
        };
        assert!(runs_natively(host));
        assert!(!runs_natively("sparc"));
    }
}
