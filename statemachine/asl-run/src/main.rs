//! `asl-run`: runs a state-machine definition locally and prints the status,
//! output and history as JSON.
//!
//! ```text
//! asl-run def.json --input '{"a":1}' \
//!     --lambda 'arn:aws:lambda:us-east-1:111111111111:function:fn=echo' \
//!     --lambda 'g=fail:MyError:my cause' --subst FnArn=arn:...
//! ```

use clap::Parser;
use imagegen_statemachine::{
    Engine, ExecutionOptions, ExecutionStatus, Registry, StateMachine, TaskError,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Duration;

/// Run an Amazon States Language definition locally.
#[derive(Debug, Parser)]
#[command(name = "asl-run", version)]
struct Args {
    /// The definition file (JSON).
    definition: std::path::PathBuf,
    /// The execution input (JSON text).
    #[arg(long, default_value = "{}", conflicts_with = "input_file")]
    input: String,
    /// Read the execution input from a file.
    #[arg(long)]
    input_file: Option<std::path::PathBuf>,
    /// Bind a Lambda function (ARN or name) to a behaviour: `RESOURCE=echo`,
    /// `RESOURCE=fail:Error:Cause`, `RESOURCE=return:<json>` or
    /// `RESOURCE=sleep:<seconds>` (then echo). Repeatable.
    #[arg(long = "lambda", value_name = "RESOURCE=BEHAVIOUR")]
    lambdas: Vec<String>,
    /// A definition substitution `${KEY}` -> VALUE. Repeatable.
    #[arg(long = "subst", value_name = "KEY=VALUE")]
    substitutions: Vec<String>,
    /// The execution name.
    #[arg(long)]
    name: Option<String>,
    /// The state machine name used in ARNs and `$$.StateMachine`.
    #[arg(long, default_value = "StateMachine")]
    state_machine_name: String,
    /// Print each history event to stderr as it happens.
    #[arg(long)]
    watch: bool,
    /// Leave the history out of the printed result.
    #[arg(long)]
    no_history: bool,
}

#[derive(Debug, Clone)]
enum Behaviour {
    Echo,
    Fail { error: String, cause: String },
    Return(Value),
    Sleep(Duration),
}

/// The longest `sleep:` behaviour: AWS's largest TimeoutSeconds, so any task timeout can fire.
const MAX_SLEEP_SECONDS: f64 = 99_999_999.0;

fn parse_behaviour(text: &str) -> Result<Behaviour, String> {
    let (kind, rest) = text.split_once(':').unwrap_or((text, ""));
    match kind {
        "echo" | "identity" => Ok(Behaviour::Echo),
        "fail" => {
            let (error, cause) = rest.split_once(':').unwrap_or((rest, ""));
            if error.is_empty() {
                return Err(format!(
                    "'{text}': fail needs an error name (fail:Error:Cause)"
                ));
            }
            Ok(Behaviour::Fail {
                error: error.to_string(),
                cause: cause.to_string(),
            })
        }
        "return" => serde_json::from_str(rest)
            .map(Behaviour::Return)
            .map_err(|e| format!("'{text}': return needs JSON: {e}")),
        "sleep" => rest
            .parse::<f64>()
            .ok()
            .filter(|s| (0.0..=MAX_SLEEP_SECONDS).contains(s))
            .map(|s| Behaviour::Sleep(Duration::from_secs_f64(s)))
            .ok_or_else(|| {
                format!("'{text}': sleep needs a number of seconds from 0 to {MAX_SLEEP_SECONDS}")
            }),
        other => Err(format!(
            "unknown behaviour '{other}' (use echo, fail:Error:Cause, return:<json> or sleep:<s>)"
        )),
    }
}

fn registry(bindings: &[String]) -> Result<Registry, String> {
    let mut reg = Registry::new();
    for b in bindings {
        let (resource, behaviour) = b
            .split_once('=')
            .ok_or_else(|| format!("--lambda '{b}': expected RESOURCE=BEHAVIOUR"))?;
        let behaviour = parse_behaviour(behaviour)?;
        reg.register(resource, move |input: Value| {
            let behaviour = behaviour.clone();
            async move {
                match behaviour {
                    Behaviour::Echo => Ok(input),
                    Behaviour::Return(v) => Ok(v),
                    Behaviour::Fail { error, cause } => Err(TaskError::new(error, cause)),
                    Behaviour::Sleep(d) => {
                        tokio::time::sleep(d).await;
                        Ok(input)
                    }
                }
            }
        });
    }
    Ok(reg)
}

fn pairs(items: &[String], flag: &str) -> Result<HashMap<String, String>, String> {
    items
        .iter()
        .map(|s| {
            s.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| format!("{flag} '{s}': expected KEY=VALUE"))
        })
        .collect()
}

async fn run(args: Args) -> Result<ExitCode, String> {
    let text = std::fs::read_to_string(&args.definition)
        .map_err(|e| format!("cannot read {}: {e}", args.definition.display()))?;
    let subs = pairs(&args.substitutions, "--subst")?;
    let sm = StateMachine::from_json(&text, &subs).map_err(|e| e.to_string())?;
    let input_text = match &args.input_file {
        Some(p) => {
            std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?
        }
        None => args.input.clone(),
    };
    let input: Value =
        serde_json::from_str(&input_text).map_err(|e| format!("the input is not JSON: {e}"))?;
    let mut engine = Engine::new(registry(&args.lambdas)?);
    if args.watch {
        engine = engine.with_observer(|e| {
            let name = e
                .detail()
                .and_then(|d| d.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("");
            eprintln!("{:>4} {:<28} {name}", e.id, e.event_type.as_str());
        });
    }
    let exec = engine
        .execute(
            &sm,
            input,
            ExecutionOptions {
                name: args.name.clone(),
                state_machine_name: args.state_machine_name.clone(),
                ..Default::default()
            },
        )
        .await;
    let mut out = json!({
        "executionArn": exec.execution_arn,
        "status": exec.status,
        "output": exec.output,
        "error": exec.error,
        "cause": exec.cause,
    });
    if !args.no_history {
        out["history"] = serde_json::to_value(&exec.history).map_err(|e| e.to_string())?;
    }
    let text = serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(if exec.status == ExecutionStatus::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("asl-run: {e}");
            ExitCode::from(2)
        }
    }
}
