//! Task: resolves the resource (Lambda ARNs and `lambda:invoke`) to a registered
//! handler, calls it under TimeoutSeconds/HeartbeatSeconds, records the task events,
//! and hands a failure to Retry and Catch.

use crate::arn::{REGION, lambda_arn_in};
use crate::errors;
use crate::exec::{
    Entered, Exec, Failure, Frame, PAYLOAD_LIMIT, POSITIVE_INTEGER, Step, error_details,
    invalid_path,
};
use crate::history::EventType;
use crate::model::{NumOrPath, QueryLanguage, TaskState};
use crate::payload::Sources;
use crate::retry::RetryState;
use serde_json::{Map, Value, json};
use std::time::Duration;

/// The optimized Lambda integration: a Task whose `Parameters`/`Arguments` name the function.
pub(crate) const LAMBDA_INVOKE: &str = "arn:aws:states:::lambda:invoke";

/// Task: each attempt resolves its input and limits, calls the handler (or
/// TestState's mock), then ends through ResultSelector ... OutputPath, or retries,
/// or is caught.
pub(super) async fn run(
    exec: &Exec<'_>,
    en: &Entered<'_>,
    t: &TaskState,
    input: Value,
    frame: &mut Frame,
) -> Result<Step, Failure> {
    let mut retry = RetryState::new(t.io.retry.len());
    loop {
        let ctx = exec.context(en, Some(retry.total));
        let eff = exec.effective_input(en, t.io.parameters.as_ref(), &input, &ctx, frame)?;
        let src = exec.field_sources(en, &input, &ctx, frame);
        let limits = Limits {
            timeout: positive_seconds(
                exec,
                en,
                t.timeout.as_ref(),
                &src,
                ("TimeoutSeconds", "TimeoutSecondsPath"),
            )?,
            heartbeat: positive_seconds(
                exec,
                en,
                t.heartbeat.as_ref(),
                &src,
                ("HeartbeatSeconds", "HeartbeatSecondsPath"),
            )?,
        };
        let outcome = match exec.mocked() {
            Some(mocked) => mocked,
            None => invoke(exec, en, t, eff, limits, frame).await,
        };
        match outcome {
            Ok(result) => {
                if en.state.language == QueryLanguage::JsonPath {
                    exec.inspect("result", &result);
                }
                return exec.complete(en, &t.io, &input, result, &ctx, frame);
            }
            Err(f) => {
                if let Some(step) = exec
                    .retry_or_catch(en, &t.io, &mut retry, f, &input, frame)
                    .await?
                {
                    return Ok(step);
                }
            }
        }
    }
}

/// Calls the Task's resource, recording its Scheduled/Started and its outcome event.
async fn invoke(
    exec: &Exec<'_>,
    en: &Entered<'_>,
    t: &TaskState,
    eff: Value,
    limits: Limits,
    frame: &mut Frame,
) -> Result<Value, Failure> {
    let target = Target::of(&t.resource, &eff).map_err(|m| en.runtime(m))?;
    let events = target.events();
    exec.emit(frame, events.scheduled, target.scheduled(&eff, limits));
    exec.emit(frame, events.started, target.details(Map::new()));
    let fail = |frame: &mut Frame, f: Failure| -> Failure {
        exec.emit(frame, events.failed, target.details(error_details(&f)));
        f
    };
    let Some(handler) = exec.services.registry.resolve(&target.function) else {
        return Err(fail(frame, target.not_found(&exec.services.account)));
    };
    let call = handler.call(target.payload.clone());
    let outcome = match limits.first() {
        Some((secs, name)) => {
            let timer = exec
                .services
                .clock
                .sleep(Duration::from_secs_f64(secs.clamp(0.0, 1e10)));
            tokio::select! {
                biased;
                r = call => Ok(r),
                _ = timer => Err(name),
            }
        }
        None => Ok(call.await),
    };
    let value = match outcome {
        Err(name) => {
            // Timed-out events carry the error only.
            let mut d = Map::new();
            d.insert("error".into(), Value::String(name.to_string()));
            exec.emit(frame, events.timed_out, target.details(d));
            return Err(Failure::new(name, ""));
        }
        Ok(Err(e)) => {
            let f = Failure {
                error: e.error,
                cause: e.cause,
                unrecorded: None,
            };
            return Err(fail(frame, f));
        }
        Ok(Ok(value)) => value,
    };
    if value.to_string().len() > PAYLOAD_LIMIT {
        let who = match target.kind {
            Kind::LambdaInvoke => "lambda",
            _ => t.resource.as_str(),
        };
        let f = Failure::new(
            errors::DATA_LIMIT_EXCEEDED,
            format!(
                "The state/task '{who}' returned a result with a size exceeding the maximum number of bytes service limit."
            ),
        );
        return Err(fail(frame, f));
    }
    let result = match target.kind {
        Kind::LambdaInvoke => {
            let rid = exec.services.rng.uuid();
            let date = exec
                .services
                .clock
                .now()
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string();
            let resp = invoke_response(value, &rid, &date);
            if eff.get("LogType").and_then(Value::as_str) == Some("Tail") {
                with_log_result(resp, &rid)
            } else {
                resp
            }
        }
        _ => value,
    };
    let mut d = Map::new();
    d.insert("output".into(), Value::String(result.to_string()));
    d.insert("outputDetails".into(), json!({"truncated": false}));
    exec.emit(frame, events.succeeded, target.details(d));
    Ok(result)
}

/// A `...Path` timeout or heartbeat, read from the state input; a literal as given.
fn positive_seconds(
    exec: &Exec<'_>,
    en: &Entered<'_>,
    np: Option<&NumOrPath>,
    src: &Sources<'_>,
    (field, path_field): (&str, &str),
) -> Result<Option<f64>, Failure> {
    match np {
        None => Ok(None),
        Some(NumOrPath::Literal(n)) => Ok(Some(*n)),
        Some(NumOrPath::Jsonata(e)) => exec
            .jsonata_number(en, e, src, field, POSITIVE_INTEGER)
            .map(Some),
        Some(NumOrPath::Path(p)) => {
            let field = path_field;
            let v = src
                .scope
                .eval(p)
                .map_err(|m| en.runtime(invalid_path(p, &m)))?;
            match v.as_f64() {
                Some(n) if n > 0.0 => Ok(Some(n)),
                _ => Err(en.runtime(format!(
                    "The {field} field refers to value {v} which is not a positive integer: {p}"
                ))),
            }
        }
    }
}

enum Kind {
    /// A Lambda function ARN as the Resource.
    LambdaArn,
    /// `arn:aws:states:::lambda:invoke`.
    LambdaInvoke,
    /// Anything else, looked up verbatim.
    Other,
}

fn kind_of(resource: &str) -> Kind {
    if resource == LAMBDA_INVOKE {
        Kind::LambdaInvoke
    } else if resource.starts_with("arn:") && resource.split(':').nth(2) == Some("lambda") {
        Kind::LambdaArn
    } else {
        Kind::Other
    }
}

/// `TimeoutSeconds` and `HeartbeatSeconds` as resolved for one attempt.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub timeout: Option<f64>,
    pub heartbeat: Option<f64>,
}

impl Limits {
    /// The limit that runs out first, with the error it raises. The engine
    /// receives no heartbeats, so a heartbeat limit ends the task like a timeout.
    fn first(self) -> Option<(f64, &'static str)> {
        match (self.timeout, self.heartbeat) {
            (Some(t), Some(h)) if h < t => Some((h, errors::HEARTBEAT_TIMEOUT)),
            (Some(t), _) => Some((t, errors::TIMEOUT)),
            (None, Some(h)) => Some((h, errors::HEARTBEAT_TIMEOUT)),
            (None, None) => None,
        }
    }
}

/// The history event types of one kind of Task.
struct TaskEvents {
    scheduled: EventType,
    started: EventType,
    succeeded: EventType,
    failed: EventType,
    timed_out: EventType,
}

/// Where a Task's call goes, what the handler receives and how its events describe it.
struct Target {
    kind: Kind,
    /// The name or ARN the registry resolves.
    function: String,
    /// The handler's input.
    payload: Value,
    /// `resourceType` and `resource` of `Task*` events (`lambda`, `invoke`).
    resource_type: String,
    resource_name: String,
}

impl Target {
    fn of(resource: &str, eff: &Value) -> Result<Target, &'static str> {
        let kind = kind_of(resource);
        let (function, payload) = match kind {
            Kind::LambdaInvoke => {
                let Some(f) = eff.get("FunctionName").and_then(Value::as_str) else {
                    return Err("The field 'FunctionName' is required by lambda:invoke");
                };
                let payload = match eff.get("Payload") {
                    None | Some(Value::Null) => json!({}),
                    // A string Payload is sent as raw bytes; the function sees it decoded.
                    Some(Value::String(s)) => {
                        serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone()))
                    }
                    Some(v) => v.clone(),
                };
                (f.to_string(), payload)
            }
            Kind::LambdaArn | Kind::Other => (resource.to_string(), eff.clone()),
        };
        let (resource_type, resource_name) = match kind {
            Kind::LambdaInvoke => ("lambda".to_string(), "invoke".to_string()),
            Kind::LambdaArn => ("lambda".to_string(), String::new()),
            Kind::Other => {
                // arn:aws:states:::service:action -> ("service", "action")
                let tail = resource.rsplit(":::").next().unwrap_or(resource);
                let (a, b) = tail.split_once(':').unwrap_or((tail, ""));
                (a.to_string(), b.to_string())
            }
        };
        Ok(Target {
            kind,
            function,
            payload,
            resource_type,
            resource_name,
        })
    }

    fn events(&self) -> TaskEvents {
        match self.kind {
            Kind::LambdaArn => TaskEvents {
                scheduled: EventType::LambdaFunctionScheduled,
                started: EventType::LambdaFunctionStarted,
                succeeded: EventType::LambdaFunctionSucceeded,
                failed: EventType::LambdaFunctionFailed,
                timed_out: EventType::LambdaFunctionTimedOut,
            },
            _ => TaskEvents {
                scheduled: EventType::TaskScheduled,
                started: EventType::TaskStarted,
                succeeded: EventType::TaskSucceeded,
                failed: EventType::TaskFailed,
                timed_out: EventType::TaskTimedOut,
            },
        }
    }

    /// Event details: `LambdaFunction*` events carry `extra` alone, `Task*` events
    /// name the resource first.
    fn details(&self, extra: Map<String, Value>) -> Value {
        if matches!(self.kind, Kind::LambdaArn) {
            return Value::Object(extra);
        }
        let mut d = Map::new();
        d.insert(
            "resourceType".into(),
            Value::String(self.resource_type.clone()),
        );
        d.insert("resource".into(), Value::String(self.resource_name.clone()));
        d.extend(extra);
        Value::Object(d)
    }

    fn scheduled(&self, eff: &Value, limits: Limits) -> Value {
        let mut d = Map::new();
        match self.kind {
            Kind::LambdaArn => {
                d.insert("resource".into(), Value::String(self.function.clone()));
                d.insert("input".into(), Value::String(eff.to_string()));
                d.insert("inputDetails".into(), json!({"truncated": false}));
            }
            _ => {
                d.insert(
                    "resourceType".into(),
                    Value::String(self.resource_type.clone()),
                );
                d.insert("resource".into(), Value::String(self.resource_name.clone()));
                d.insert("region".into(), Value::String(REGION.into()));
                d.insert("parameters".into(), Value::String(eff.to_string()));
            }
        }
        if let Some(ts) = limits.timeout {
            d.insert("timeoutInSeconds".into(), Value::from(ts as u64));
        }
        if let Some(hb) = limits.heartbeat {
            d.insert("heartbeatInSeconds".into(), Value::from(hb as u64));
        }
        Value::Object(d)
    }

    /// The failure when no handler is registered, as Lambda reports a missing function.
    fn not_found(&self, account: &str) -> Failure {
        match self.kind {
            Kind::LambdaArn | Kind::LambdaInvoke => Failure::new(
                "Lambda.ResourceNotFoundException",
                format!(
                    "Function not found: {}:$LATEST (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: 00000000-0000-0000-0000-000000000000; Proxy: null)",
                    lambda_arn_in(account, &self.function)
                ),
            ),
            Kind::Other => Failure::new(
                errors::TASK_FAILED,
                format!(
                    "No handler is registered for the resource '{}'",
                    self.function
                ),
            ),
        }
    }
}

/// The Lambda Invoke API response that `lambda:invoke` returns.
fn invoke_response(payload: Value, request_id: &str, date: &str) -> Value {
    let len = payload.to_string().len().to_string();
    json!({
        "ExecutedVersion": "$LATEST",
        "Payload": payload,
        "SdkHttpMetadata": {
            "AllHttpHeaders": {
                "X-Amz-Executed-Version": ["$LATEST"],
                "x-amzn-Remapped-Content-Length": ["0"],
                "Connection": ["keep-alive"],
                "x-amzn-RequestId": [request_id],
                "Content-Length": [len],
                "Date": [date],
                "Content-Type": ["application/json"],
            },
            "HttpHeaders": {
                "Connection": "keep-alive",
                "Content-Length": len,
                "Content-Type": "application/json",
                "Date": date,
                "X-Amz-Executed-Version": "$LATEST",
                "x-amzn-Remapped-Content-Length": "0",
                "x-amzn-RequestId": request_id,
            },
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
        "StatusCode": 200,
    })
}

/// Adds the `LogResult` (base64 of the last 4 KB of the log) that
/// `LogType: Tail` asks for.
fn with_log_result(resp: Value, request_id: &str) -> Value {
    use base64::Engine as _;
    let log =
        format!("START RequestId: {request_id} Version: $LATEST\nEND RequestId: {request_id}\n");
    let encoded = base64::engine::general_purpose::STANDARD.encode(log);
    let Value::Object(m) = resp else {
        return resp;
    };
    let mut out = Map::new();
    for (k, v) in m {
        let is_version = k == "ExecutedVersion";
        out.insert(k, v);
        if is_version {
            out.insert("LogResult".into(), Value::String(encoded.clone()));
        }
    }
    Value::Object(out)
}
