//! The twin built from the plan: the offline stand-ins given the template's resources (buckets,
//! topics, tables, queues, the state machine with its definition and substitutions, the rules),
//! and every function run as its own process behind a local Lambda Runtime API
//! ([`imagegen_local::lambda`]), wired as the template wires them: S3 notifications, EventBridge
//! rules, queue mappings, the REST API's routes, and the state machine's tasks.
//!
//! Nothing here knows the pipeline's functions: what runs and with what environment comes from
//! the plan alone, so a template that names the wrong function, drops a variable or a permission
//! behaves here as it would when deployed.
//!
//! - `launch.rs`: how a function's process is started (the assembly's `bootstrap` directly, under
//!   `qemu-user`, or a host build with `--native`) and the environment it gets.
//! - `invoke.rs`: invocations as the Lambda service makes them for its callers: synchronous
//!   (Step Functions, API Gateway, the queue mapping) and asynchronous with the function's retry
//!   settings (S3 and EventBridge), each checked against the function's resource policy first.
//! - `notifications.rs`: S3's notification configuration, recorded before an upload is answered.
//! - `doors.rs`: the REST API and the queue mappings.

mod doors;
mod invoke;
mod launch;
mod notifications;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use imagegen_local::config::{AccessKey, ClientOptions};
use imagegen_local::eventbridge::{Pattern, StatusChangeRule};
use imagegen_local::server::authorize::Access;
use imagegen_local::server::{self, Protocol, Router};
use imagegen_local::server::{LocalCa, ServerTls};
use imagegen_local::sqs::{QueueSettings, Redrive};
use imagegen_local::{FakeModelBehavior, LocalAws, apigateway};
use imagegen_statemachine::{Engine, Registry, TaskError, TokioClock};
use serde_json::Value;

use crate::enforce::{Enforcer, Keys};
use crate::iam::Authorizer;
use crate::plan::Plan;
use crate::template::Stack;

pub use invoke::{AsyncSettings, Invoker};
pub use launch::Runtime;
pub use notifications::Notifications;

/// How to build a twin.
#[derive(Clone)]
pub struct TwinOptions {
    pub data_dir: PathBuf,
    /// Where the twin listens (`http://127.0.0.1:PORT`): every process's `AWS_ENDPOINT_URL`.
    pub endpoint: String,
    pub runtime: Runtime,
    pub behavior: FakeModelBehavior,
}

impl std::fmt::Debug for TwinOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwinOptions")
            .field("data_dir", &self.data_dir)
            .field("endpoint", &self.endpoint)
            .field("runtime", &self.runtime)
            .finish_non_exhaustive()
    }
}

/// Why a twin could not be built: one sentence.
#[derive(Debug, thiserror::Error)]
pub enum TwinError {
    #[error("{logical_id}: {why}")]
    Resource { logical_id: String, why: String },
    #[error(transparent)]
    Local(#[from] imagegen_local::LocalError),
}

impl TwinError {
    fn resource(logical_id: &str, why: impl Into<String>) -> Self {
        Self::Resource {
            logical_id: logical_id.to_owned(),
            why: why.into(),
        }
    }
}

/// The stack rehearsed: its stand-ins and its functions' processes.
#[derive(Debug)]
pub struct Twin {
    aws: LocalAws,
    plan: Plan,
    invoker: Arc<Invoker>,
    notifications: Arc<Notifications>,
    /// Who may sign requests to the endpoint, and the template's policies deciding each.
    access: Arc<Access>,
    keys: Keys,
    ca: LocalCa,
    region: String,
    account: String,
}

impl Twin {
    /// Make every resource of `plan` in the data directory (kept as they are when they exist, so
    /// a second rehearsal on the same directory finds the objects and executions of the first).
    pub fn build(plan: Plan, stack: &Stack<'_>, options: TwinOptions) -> Result<Self, TwinError> {
        // One key per function role (its processes sign with it) and the administrator's, which
        // the twin's own clients (S3 reading an object back for its notification) use too.
        let keys = Keys::issue(&plan);
        let client_options = ClientOptions {
            region: stack.region().to_owned(),
            s3_endpoint: options.endpoint.clone(),
            key: keys.administrator.clone(),
            ..ClientOptions::default()
        };
        let aws = LocalAws::open_with(&options.data_dir, client_options, options.behavior.clone())?;
        for bucket in &plan.buckets {
            aws.create_bucket(&bucket.name)?;
        }
        for topic in &plan.topics {
            aws.sns().register_topic(&topic.arn);
        }
        for table in &plan.tables {
            let Some((key, _)) = table.key_schema.iter().find(|(_, kind)| kind == "HASH") else {
                return Err(TwinError::resource(
                    &table.logical_id,
                    "the table has no HASH key",
                ));
            };
            aws.create_table(&table.name, key);
        }
        create_queues(&aws, &plan)?;
        let iam = Authorizer::from_stack(stack)
            .map_err(|e| TwinError::resource(stack.name(), e.to_string()))?;
        // The endpoint speaks HTTPS too (a TLS-only bucket policy is enforced, not skipped), with
        // a CA kept in the data directory that the functions and the person's CLI trust.
        let ca = LocalCa::load_or_create(aws.data_dir())
            .map_err(|e| TwinError::resource(stack.name(), e.to_string()))?;
        let functions = launch::functions(
            &plan,
            stack,
            &options,
            &keys,
            ca.cert_path(),
            aws.data_dir(),
        )?;
        let access = Arc::new(
            Access::new(keys.callers()).with_authorize(Arc::new(Enforcer::new(iam.clone(), stack))),
        );
        let invoker = Arc::new(Invoker::new(&plan, functions, iam));
        register_state_machines(&aws, &plan, &invoker)?;
        add_rules(&aws, &plan, &invoker)?;
        let notifications = Notifications::new(aws.clone(), &plan, Arc::clone(&invoker));
        Ok(Self {
            aws,
            plan,
            invoker,
            notifications,
            access,
            keys,
            ca,
            region: stack.region().to_owned(),
            account: stack.account().to_owned(),
        })
    }

    pub fn aws(&self) -> &LocalAws {
        &self.aws
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    pub fn notifications(&self) -> &Arc<Notifications> {
        &self.notifications
    }

    /// The endpoint's TLS configuration: a certificate for loopback signed by the twin's CA.
    pub fn server_tls(&self) -> Result<ServerTls, TwinError> {
        self.ca
            .server_tls()
            .map_err(|e| TwinError::resource("the endpoint", e.to_string()))
    }

    /// The twin's CA certificate (`AWS_CA_BUNDLE` for the AWS CLI).
    pub fn ca_path(&self) -> &std::path::Path {
        self.ca.cert_path()
    }

    /// The twin's CA (its certificate, the clients that trust it).
    pub fn ca(&self) -> &LocalCa {
        &self.ca
    }

    /// The key of the person at the AWS CLI or console: an administrator of the account, still
    /// subject to every explicit Deny of the template's resource policies.
    pub fn administrator(&self) -> &AccessKey {
        &self.keys.administrator
    }

    /// The endpoint's router: the stand-ins, S3's notifications, and the REST API's routes, every
    /// signed request authorised from the template's policies as its caller's.
    pub fn router(&self) -> Result<Router, TwinError> {
        let mut router = server::local_router_with(
            &self.aws,
            Some(self.notifications.hook()),
            Arc::clone(&self.access),
        )?;
        if let Some(api) = doors::rest_api(&self.plan, &self.invoker, &self.region, &self.account)?
        {
            let prefixes = api.path_prefixes();
            router = router.with_service(apigateway::SERVICE, Protocol::Rest, Arc::new(api));
            for prefix in &prefixes {
                router = router.with_signed_path(prefix, apigateway::SERVICE);
            }
        }
        Ok(router)
    }

    /// Poll each enabled queue mapping until the returned tasks are aborted.
    pub fn start_mappings(&self) -> Vec<tokio::task::JoinHandle<()>> {
        doors::start_mappings(&self.aws, &self.plan, &self.invoker)
    }

    /// Stop every function's processes.
    pub async fn shutdown(&self) {
        self.invoker.shutdown().await;
    }
}

fn create_queues(aws: &LocalAws, plan: &Plan) -> Result<(), TwinError> {
    // Dead-letter queues first: a queue's redrive policy names one that must exist.
    let mut queues: Vec<_> = plan.queues.iter().collect();
    queues.sort_by_key(|q| q.redrive.is_some());
    for queue in queues {
        let redrive = match &queue.redrive {
            Some((target_arn, max_receive_count)) => {
                let Some(target) = plan.queues.iter().find(|q| &q.arn == target_arn) else {
                    return Err(TwinError::resource(
                        &queue.logical_id,
                        format!("its dead-letter queue {target_arn} is not in the stack"),
                    ));
                };
                Some(Redrive {
                    dead_letter_queue: target.name.clone(),
                    max_receive_count: u32::try_from(*max_receive_count).unwrap_or(u32::MAX),
                })
            }
            None => None,
        };
        aws.sqs().create_queue(
            &queue.name,
            QueueSettings {
                visibility_timeout_seconds: queue.visibility_timeout_seconds,
                retention_seconds: queue.retention_seconds,
                redrive,
                ..QueueSettings::default()
            },
        )?;
    }
    Ok(())
}

/// Each state machine with the template's definition and substitutions; its Lambda tasks call
/// the functions' processes by ARN (the resolved substitutions name them).
fn register_state_machines(
    aws: &LocalAws,
    plan: &Plan,
    invoker: &Arc<Invoker>,
) -> Result<(), TwinError> {
    for machine in &plan.state_machines {
        let arn = aws.sfn().state_machine_arn(&machine.name);
        if arn != machine.arn {
            return Err(TwinError::resource(
                &machine.logical_id,
                format!("its ARN {} is not the twin's {arn}", machine.arn),
            ));
        }
        let mut registry = Registry::new();
        for function in &plan.functions {
            let invoker = Arc::clone(invoker);
            let arn = function.arn.clone();
            let caller = machine.role_arn.clone();
            registry.register(function.arn.clone(), move |payload: Value| {
                let invoker = Arc::clone(&invoker);
                let arn = arn.clone();
                let caller = caller.clone();
                async move {
                    invoker
                        .invoke_as_role(&caller, &arn, payload)
                        .await
                        .map_err(|e| TaskError::lambda(e.error_type, e.message))
                }
            });
        }
        let engine = Engine::new(registry).with_clock(Arc::new(TokioClock::new()));
        let substitutions: HashMap<String, String> = machine
            .substitutions
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        aws.sfn()
            .register_state_machine_source(
                &machine.name,
                &machine.definition,
                &substitutions,
                engine,
            )
            .map_err(|e| TwinError::resource(&machine.logical_id, e.to_string()))?;
    }
    Ok(())
}

/// The EventBridge rules whose events the twin produces (Step Functions' status changes), each
/// with the template's pattern, invoking its function targets asynchronously as EventBridge does.
fn add_rules(aws: &LocalAws, plan: &Plan, invoker: &Arc<Invoker>) -> Result<(), TwinError> {
    for rule in plan.rules.iter().filter(|r| r.enabled) {
        let pattern = Pattern::new(rule.pattern.clone())
            .map_err(|why| TwinError::resource(&rule.logical_id, why))?;
        let targets: Vec<(String, Option<Value>)> = rule
            .targets
            .iter()
            .map(|t| {
                let input = t
                    .input
                    .as_deref()
                    .map(serde_json::from_str)
                    .transpose()
                    .map_err(|e| {
                        TwinError::resource(
                            &rule.logical_id,
                            format!("target {}'s Input is not JSON ({e})", t.id),
                        )
                    })?;
                if t.input_path.is_some() {
                    return Err(TwinError::resource(
                        &rule.logical_id,
                        format!("target {}'s InputPath is not rehearsed", t.id),
                    ));
                }
                Ok((t.arn.clone(), input))
            })
            .collect::<Result<_, TwinError>>()?;
        let invoker = Arc::clone(invoker);
        let source = rule.arn.clone();
        let rule_name = rule.name.clone();
        aws.sfn()
            .add_rule(StatusChangeRule::with_pattern(pattern, move |event| {
                let invoker = Arc::clone(&invoker);
                let targets = targets.clone();
                let source = source.clone();
                let rule_name = rule_name.clone();
                async move {
                    // EventBridge invokes a Lambda target asynchronously: the status change is
                    // not held up by the function (or by its retries, minutes apart).
                    for (arn, input) in targets {
                        let payload = input.unwrap_or_else(|| event.clone());
                        let invoker = Arc::clone(&invoker);
                        let source = source.clone();
                        let what = format!("rule {rule_name}");
                        tokio::spawn(async move {
                            invoker
                                .invoke_event("events.amazonaws.com", &source, &what, &arn, payload)
                                .await;
                        });
                    }
                    // Handed over: the invoker retries as Lambda's asynchronous invocation does.
                    Ok(())
                }
            }));
    }
    Ok(())
}

/// The stack's outputs as `cdk deploy` prints them (`Stack.Name = value`), an API's URL being the
/// twin's endpoint (its routes are served at the root, no stage in the path).
pub fn outputs(
    stack: &Stack<'_>,
    endpoint: &str,
) -> Result<BTreeMap<String, String>, crate::TemplateError> {
    let api_host = ".execute-api.";
    Ok(stack
        .outputs()?
        .into_iter()
        .map(|(name, value)| {
            let value = if value.starts_with("https://") && value.contains(api_host) {
                format!("{}/", endpoint.trim_end_matches('/'))
            } else {
                value
            };
            (format!("{}.{name}", stack.name()), value)
        })
        .collect())
}

/// Used by the processes' launch and the delivery of events.
pub(crate) fn function_by<'p>(
    plan: &'p Plan,
    name_or_arn: &str,
) -> Option<&'p crate::plan::Function> {
    plan.functions
        .iter()
        .find(|f| f.arn == name_or_arn || f.name == name_or_arn)
}
