//! Task states: resource resolution (Lambda ARNs and `lambda:invoke`),
//! timeouts, Retry and Catch.

use crate::engine::{Exec, Failure, Frame};
use crate::history::EventType;
use crate::interpreter::{Entered, Step, invalid_path};
use crate::model::*;
use crate::registry::{REGION, lambda_arn};
use crate::retry::{RetryState, error_matches, errors};
use serde_json::{Map, Value, json};
use std::time::Duration;

const LAMBDA_INVOKE: &str = "arn:aws:states:::lambda:invoke";

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

fn error_details(f: &Failure) -> Map<String, Value> {
    let mut d = Map::new();
    d.insert("error".into(), Value::String(f.error.clone()));
    if let Some(c) = &f.cause {
        d.insert("cause".into(), Value::String(c.clone()));
    }
    d
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

/// Builds the `{"Error","Cause"}` object a Catch passes on.
pub(crate) fn error_output(f: &Failure) -> Value {
    let mut m = Map::new();
    m.insert("Error".into(), Value::String(f.error.clone()));
    if let Some(c) = &f.cause {
        m.insert("Cause".into(), Value::String(c.clone()));
    }
    Value::Object(m)
}

impl Exec<'_> {
    fn positive_seconds(
        &self,
        en: &Entered<'_>,
        np: Option<&NumOrPath>,
        input: &Value,
        ctx: &Value,
        frame: &Frame,
        field: &str,
    ) -> Result<Option<f64>, Failure> {
        match np {
            None => Ok(None),
            Some(NumOrPath::Literal(n)) => Ok(Some(*n)),
            Some(NumOrPath::Path(p)) => {
                let v = self
                    .scope(input, ctx, frame)
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

    /// Handles a failure with Retry (returns Ok(None) to retry) and Catch.
    pub(crate) async fn retry_or_catch(
        &self,
        en: &Entered<'_>,
        io: &ResultHandling,
        retry: &mut RetryState,
        f: Failure,
        raw_input: &Value,
        frame: &mut Frame,
    ) -> Result<Option<Step>, Failure> {
        if self.retry_wait(io, retry, &f).await {
            return Ok(None);
        }
        self.catch(en, io, f, raw_input, frame).map(Some)
    }

    /// Sleeps and returns true when a retrier takes `f`.
    pub(crate) async fn retry_wait(
        &self,
        io: &ResultHandling,
        retry: &mut RetryState,
        f: &Failure,
    ) -> bool {
        if f.is_runtime() {
            return false;
        }
        match retry.next_delay(&io.retry, &f.error, self.engine.rng.as_ref()) {
            Some(d) => {
                if !d.is_zero() {
                    self.engine.clock.sleep(d).await;
                }
                true
            }
            None => false,
        }
    }

    /// Applies the first matching catcher, or gives the failure back.
    pub(crate) fn catch(
        &self,
        en: &Entered<'_>,
        io: &ResultHandling,
        f: Failure,
        raw_input: &Value,
        frame: &mut Frame,
    ) -> Result<Step, Failure> {
        if f.is_runtime() {
            return Err(f);
        }
        let Some(c) = io
            .catch
            .iter()
            .find(|c| error_matches(&c.error_equals, &f.error))
        else {
            return Err(f);
        };
        let err_out = error_output(&f);
        let ctx = self.context(en, None);
        let assigned = self.eval_assign(en, c.assign.as_ref(), &err_out, &ctx, frame)?;
        let out = self.result_path(en, Some(&c.result_path), raw_input, err_out)?;
        Self::apply_assign(frame, assigned);
        Ok(Step {
            output: out,
            next: Some(c.next.clone()),
        })
    }

    pub(crate) async fn run_task(
        &self,
        en: &Entered<'_>,
        t: &TaskState,
        input: Value,
        frame: &mut Frame,
    ) -> Result<Step, Failure> {
        let mut retry = RetryState::new(t.io.retry.len());
        loop {
            let ctx = self.context(en, Some(retry.total));
            let eff = self.input_path(en, &input, &ctx, frame)?;
            let eff = match &t.io.parameters {
                Some(p) => self.template(en, p, &eff, &ctx, frame)?,
                None => eff,
            };
            let timeout = self.positive_seconds(
                en,
                t.timeout.as_ref(),
                &input,
                &ctx,
                frame,
                "TimeoutSecondsPath",
            )?;
            let heartbeat = self.positive_seconds(
                en,
                t.heartbeat.as_ref(),
                &input,
                &ctx,
                frame,
                "HeartbeatSecondsPath",
            )?;
            match self.invoke(en, t, eff, timeout, heartbeat, frame).await {
                Ok(result) => {
                    return self.complete(en, &t.io, &input, result, &ctx, frame);
                }
                Err(f) => {
                    if let Some(step) = self
                        .retry_or_catch(en, &t.io, &mut retry, f, &input, frame)
                        .await?
                    {
                        return Ok(step);
                    }
                }
            }
        }
    }

    async fn invoke(
        &self,
        en: &Entered<'_>,
        t: &TaskState,
        eff: Value,
        timeout: Option<f64>,
        heartbeat: Option<f64>,
        frame: &mut Frame,
    ) -> Result<Value, Failure> {
        let kind = kind_of(&t.resource);
        let (function, payload, res_type, res_name) = match kind {
            Kind::LambdaInvoke => {
                let Some(f) = eff.get("FunctionName").and_then(Value::as_str) else {
                    return Err(en.runtime("The field 'FunctionName' is required by lambda:invoke"));
                };
                (
                    f.to_string(),
                    match eff.get("Payload") {
                        None | Some(Value::Null) => json!({}),
                        // A string Payload is sent as raw bytes; the function sees it decoded.
                        Some(Value::String(s)) => {
                            serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone()))
                        }
                        Some(v) => v.clone(),
                    },
                    "lambda",
                    "invoke",
                )
            }
            Kind::LambdaArn => (t.resource.clone(), eff.clone(), "lambda", ""),
            Kind::Other => (t.resource.clone(), eff.clone(), "", ""),
        };
        let (t_sched, t_start, t_ok, t_fail, t_timeout) = match kind {
            Kind::LambdaArn => (
                EventType::LambdaFunctionScheduled,
                EventType::LambdaFunctionStarted,
                EventType::LambdaFunctionSucceeded,
                EventType::LambdaFunctionFailed,
                EventType::LambdaFunctionTimedOut,
            ),
            _ => (
                EventType::TaskScheduled,
                EventType::TaskStarted,
                EventType::TaskSucceeded,
                EventType::TaskFailed,
                EventType::TaskTimedOut,
            ),
        };
        let (res_type, res_name) = match kind {
            Kind::Other => {
                // arn:aws:states:::service:action -> ("service", "action")
                let tail = t.resource.rsplit(":::").next().unwrap_or(&t.resource);
                let mut it = tail.splitn(2, ':');
                let a = it.next().unwrap_or("").to_string();
                let b = it.next().unwrap_or("").to_string();
                (a, b)
            }
            _ => (res_type.to_string(), res_name.to_string()),
        };
        let task_details = |extra: Map<String, Value>| -> Value {
            let mut d = Map::new();
            d.insert("resourceType".into(), Value::String(res_type.clone()));
            d.insert("resource".into(), Value::String(res_name.clone()));
            d.extend(extra);
            Value::Object(d)
        };
        let mut sched = Map::new();
        match kind {
            Kind::LambdaArn => {
                sched.insert("resource".into(), Value::String(t.resource.clone()));
                sched.insert("input".into(), Value::String(eff.to_string()));
                sched.insert("inputDetails".into(), json!({"truncated": false}));
            }
            _ => {
                sched.insert("resourceType".into(), Value::String(res_type.clone()));
                sched.insert("resource".into(), Value::String(res_name.clone()));
                sched.insert("region".into(), Value::String(REGION.into()));
                sched.insert("parameters".into(), Value::String(eff.to_string()));
            }
        }
        if let Some(ts) = timeout {
            sched.insert("timeoutInSeconds".into(), Value::from(ts as u64));
        }
        if let Some(hb) = heartbeat {
            sched.insert("heartbeatInSeconds".into(), Value::from(hb as u64));
        }
        self.emit(frame, t_sched, Value::Object(sched));
        let started = match kind {
            Kind::LambdaArn => json!({}),
            _ => task_details(Map::new()),
        };
        self.emit(frame, t_start, started);

        let is_lambda = !matches!(kind, Kind::Other);
        let fail = |this: &Self, frame: &mut Frame, f: Failure, ty: EventType| -> Failure {
            let d = if is_lambda && matches!(kind, Kind::LambdaArn) {
                Value::Object(error_details(&f))
            } else {
                task_details(error_details(&f))
            };
            this.emit(frame, ty, d);
            f
        };

        let Some(handler) = self.engine.registry.resolve(&function) else {
            let f = if is_lambda {
                Failure::new(
                    "Lambda.ResourceNotFoundException",
                    format!(
                        "Function not found: {}:$LATEST (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: 00000000-0000-0000-0000-000000000000; Proxy: null)",
                        lambda_arn(&function)
                    ),
                )
            } else {
                Failure::new(
                    errors::TASK_FAILED,
                    format!("No handler is registered for the resource '{function}'"),
                )
            };
            return Err(fail(self, frame, f, t_fail));
        };

        let call = handler.call(payload);
        let limit = match (timeout, heartbeat) {
            (Some(t), Some(h)) if h < t => Some((h, errors::HEARTBEAT_TIMEOUT)),
            (Some(t), _) => Some((t, errors::TIMEOUT)),
            (None, Some(h)) => Some((h, errors::HEARTBEAT_TIMEOUT)),
            (None, None) => None,
        };
        let outcome = match limit {
            Some((secs, name)) => {
                let timer = self
                    .engine
                    .clock
                    .sleep(Duration::from_secs_f64(secs.clamp(0.0, 1e10)));
                tokio::select! {
                    biased;
                    r = call => Some(r),
                    _ = timer => { let _ = name; None }
                }
                .ok_or(name)
            }
            None => Ok(call.await),
        };
        match outcome {
            Err(name) => {
                // Timed-out events carry the error only.
                let mut d = Map::new();
                d.insert("error".into(), Value::String(name.to_string()));
                let details = match kind {
                    Kind::LambdaArn => Value::Object(d),
                    _ => task_details(d),
                };
                self.emit(frame, t_timeout, details);
                Err(Failure::new(name, ""))
            }
            Ok(Err(e)) => {
                let f = Failure {
                    error: e.error,
                    cause: e.cause,
                };
                Err(fail(self, frame, f, t_fail))
            }
            Ok(Ok(value)) => {
                if value.to_string().len() > self.engine.payload_limit {
                    let who = match kind {
                        Kind::LambdaInvoke => "lambda".to_string(),
                        _ => t.resource.clone(),
                    };
                    let f = Failure::new(
                        errors::DATA_LIMIT_EXCEEDED,
                        format!(
                            "The state/task '{who}' returned a result with a size exceeding the maximum number of bytes service limit."
                        ),
                    );
                    return Err(fail(self, frame, f, t_fail));
                }
                let result = match kind {
                    Kind::LambdaInvoke => {
                        let mut b = [0u8; 16];
                        b[..8].copy_from_slice(&self.engine.rng.next_u64().to_le_bytes());
                        b[8..].copy_from_slice(&self.engine.rng.next_u64().to_le_bytes());
                        let rid = uuid::Builder::from_random_bytes(b).into_uuid().to_string();
                        let date = self
                            .engine
                            .clock
                            .now()
                            .format("%a, %d %b %Y %H:%M:%S GMT")
                            .to_string();
                        let mut resp = invoke_response(value, &rid, &date);
                        if eff.get("LogType").and_then(Value::as_str) == Some("Tail") {
                            resp = with_log_result(resp, &rid);
                        }
                        resp
                    }
                    _ => value,
                };
                let mut d = Map::new();
                d.insert("output".into(), Value::String(result.to_string()));
                d.insert("outputDetails".into(), json!({"truncated": false}));
                let details = match kind {
                    Kind::LambdaArn => Value::Object(d),
                    _ => task_details(d),
                };
                self.emit(frame, t_ok, details);
                Ok(result)
            }
        }
    }
}
