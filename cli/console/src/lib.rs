//! The web console of `imagegen serve` and `imagegen rehearse`, at `/console/` on the same endpoint: start an execution
//! (JSON box, prompt form, prompt-file drop), watch it run on the state machine's graph, see its
//! events, images, thumbnails and email; the executions list and the outbox. Pages are HTML made
//! here, with one stylesheet and one small script embedded in the binary (no CDN, works offline);
//! live updates are server-sent events fed by the local Step Functions.
//!
//! - this file: [`Console`], the routes; `backend.rs`: [`Backend`], what the console runs over;
//!   `pages/`: one module per page (`list`, `execution`,
//!   `start`, `outbox`, `machine`).
//! - `graph.rs` lays the state machine out, `svg.rs` draws it, `progress.rs` colours its states and
//!   makes the history rows from the events.
//! - `live.rs` ([`LiveBus`]) hears the local Step Functions; `events.rs` streams to the pages.
//! - `html.rs`: the page frame and escaping; `form.rs`: form and query fields; `guard.rs`: who may
//!   ask what.
//!
//! Everything from outside is escaped (`html::esc`); requests are checked by `guard`: for the POSTs
//! that start or stop executions or upload, by origin and token (cross-site request forgery), and
//! every request for a login when the endpoint is reachable from other machines. Which requests
//! reach the console at all (their `Host`, against DNS rebinding) the endpoint checks for every
//! route (`imagegen_local::server::gate`).
//!
//! The console needs only a [`Backend`]: the [`LocalPipeline`] of `imagegen serve`
//! (`imagegen-local-pipeline`, implemented in `backend.rs`), or the twin `imagegen rehearse` builds
//! from a cloud assembly (implemented in the command line, whose console requests reach the twin's
//! endpoint as the administrator's, authorised from the template's policies). The command line
//! composes the console with the other routes on one endpoint.
//!
//! [`LocalPipeline`]: imagegen_local_pipeline::pipeline::LocalPipeline
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod backend;
mod events;
mod form;
mod graph;
mod guard;
mod html;
mod live;
mod pages;
mod progress;
mod svg;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use imagegen_aws::S3Store;
use imagegen_core::display::escape_controls;
use imagegen_core::ports::ObjectStore;
use imagegen_local::server::{Page, PageResponse};
use imagegen_local::sfn::Status;
use imagegen_local::transport::{LocalRequest, LocalResponse};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};
use tokio::sync::watch;

pub use backend::{Backend, Uploaded};
use graph::Graph;
use guard::{Guard, LOGIN_FIELD, Login, Refusal, TOKEN_FIELD, TOKEN_HEADER};
use html::{Kind, esc, execution_url, page};
use imagegen_local_pipeline::input::{self, InputFields};
use imagegen_local_pipeline::results::{Made, email_for};
pub use live::LiveBus;

/// Where the console is served.
pub const PREFIX: &str = "/console/";

/// How long the console's links to S3 objects stay valid: they are made again each time a page is
/// drawn, so an hour outlasts any look at a page.
const LINK_LIFETIME: Duration = Duration::from_secs(3600);

/// Why the execution was stopped, when stopped from the console.
const STOP_CAUSE: &str = "stopped from the imagegen console";

const STYLESHEET: &str = include_str!("assets/console.css");
const SCRIPT: &str = include_str!("assets/console.js");
/// The pages' icon: linked from every page, so a browser does not ask the endpoint's root for
/// `/favicon.ico` (which is S3's namespace there: a bucket named `favicon.ico`).
const ICON: &str = include_str!("assets/icon.svg");

/// The query that logs a browser in with `login` (appended to the console's URL).
pub fn login_query(login: &str) -> String {
    format!("?{LOGIN_FIELD}={login}")
}

/// The console of one [`Backend`].
pub struct Console<B> {
    backend: Arc<B>,
    live: LiveBus,
    guard: Guard,
    store: S3Store,
    /// The S3 endpoint that links name (images are loaded from it).
    endpoint: String,
    closing: watch::Sender<bool>,
    /// Read at the first page that needs it and kept: a local state machine never changes while
    /// `serve` runs, so neither does its graph's layout.
    machine: tokio::sync::OnceCell<Machine>,
}

/// The state machine's definition, as DescribeStateMachine gave it, and its laid-out graph.
#[derive(Debug)]
struct Machine {
    definition: String,
    graph: Result<Graph, String>,
}

impl Machine {
    fn graph(&self) -> Result<&Graph, &str> {
        self.graph.as_ref().map_err(String::as_str)
    }
}

impl<B> std::fmt::Debug for Console<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl<B: Backend> Console<B> {
    /// The console of `backend`, served at `endpoint`, hearing executions through `live`.
    pub fn new(backend: Arc<B>, live: LiveBus, endpoint: &str) -> Self {
        let store = backend.store();
        Self {
            backend,
            live,
            guard: Guard::new().served_at(endpoint),
            store,
            endpoint: endpoint.to_owned(),
            closing: watch::channel(false).0,
            machine: tokio::sync::OnceCell::new(),
        }
    }

    /// Ask every request for `login`: the token of the console's URL (`?login=`), traded for a
    /// cookie. For an endpoint other machines can reach.
    pub fn with_login(mut self, login: String) -> Self {
        self.guard = self.guard.with_login(login);
        self
    }

    /// End every open event stream (the server is stopping: they would hold it up).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Answer one request.
    pub async fn handle(&self, request: LocalRequest) -> PageResponse {
        let query = form::fields(request.query.as_deref().unwrap_or_default());
        match self
            .guard
            .check_login(&request, query.get(LOGIN_FIELD).map(String::as_str))
        {
            Login::In => {}
            // Sent on without the token, so it stays out of the history and Referer headers.
            Login::Trade(cookie) => {
                return LocalResponse::new(303, "text/plain; charset=utf-8", "Logged in.")
                    .with_header("location", request.path.clone())
                    .with_header("set-cookie", cookie)
                    .with_header("cache-control", "no-store")
                    .into();
            }
            // Plain text: the page frame would carry the CSRF token to someone not logged in.
            Login::Refused(refusal) => {
                return LocalResponse::new(401, "text/plain; charset=utf-8", refusal.0).into();
            }
        }
        let Some(rest) = request.path.strip_prefix(PREFIX) else {
            return self.not_found("There is no such page.").into();
        };
        let segments: Vec<String> = rest
            .split('/')
            .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
            .collect();
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        match (request.method.as_str(), segments.as_slice()) {
            ("GET", [""]) => self.list(query.get("status").map(String::as_str)).into(),
            ("GET", ["events"]) => events::list_stream(&self.live, self.closing.subscribe()),
            ("GET", ["executions", name]) => self.execution(name).await.into(),
            ("GET", ["executions", name, "events"]) => {
                self.execution_events(&request, name, &query)
            }
            ("POST", ["executions", name, "stop"]) => self.stop(&request, name).await.into(),
            ("GET", ["start"]) => self.start_page(&pages::start::Form::default(), 200).into(),
            ("POST", ["start"]) => self.start_json(&request).await.into(),
            ("POST", ["start-prompt"]) => self.start_prompt(&request).await.into(),
            ("POST", ["upload"]) => self.upload(&request, &query).await.into(),
            ("GET", ["outbox"]) => self.outbox().into(),
            ("GET", ["outbox", id]) => self.email(id).into(),
            ("GET", ["state-machine"]) => self.machine().await.into(),
            ("GET", ["assets", "console.css"]) => {
                asset("text/css; charset=utf-8", STYLESHEET).into()
            }
            ("GET", ["assets", "console.js"]) => {
                asset("text/javascript; charset=utf-8", SCRIPT).into()
            }
            ("GET", ["assets", "icon.svg"]) => asset("image/svg+xml", ICON).into(),
            ("POST", ["" | "outbox" | "state-machine"] | ["executions", _]) => LocalResponse::new(
                405,
                "text/plain; charset=utf-8",
                "This page is only read (GET).",
            )
            .with_header("allow", "GET")
            .into(),
            _ => self.not_found("There is no such page.").into(),
        }
    }

    fn sfn(&self) -> &imagegen_local::sfn::SfnService {
        self.backend.sfn()
    }

    /// A whole page.
    fn html(&self, status: u16, kind: Kind, title: &str, main: &str) -> LocalResponse {
        let body = page(kind, title, self.guard.token(), main);
        LocalResponse::new(status, "text/html; charset=utf-8", body)
            .with_header("content-security-policy", self.policy())
            .with_header("x-content-type-options", "nosniff")
            .with_header("x-frame-options", "DENY")
            .with_header("referrer-policy", "same-origin")
            .with_header("cache-control", "no-store")
    }

    /// Scripts and styles from the console only; images from the console and the S3 endpoint.
    fn policy(&self) -> String {
        format!(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' {}; \
             connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
            self.endpoint
        )
    }

    fn refused(&self, status: u16, refusal: &Refusal) -> LocalResponse {
        self.html(
            status,
            Kind::Refused,
            "Refused",
            &format!(
                r#"<h1>Refused</h1><p class="error">{}</p>"#,
                esc(&refusal.0)
            ),
        )
    }

    fn not_found(&self, why: &str) -> LocalResponse {
        self.html(
            404,
            Kind::Refused,
            "Not found",
            &format!(
                r#"<h1>Not found</h1><p>{}</p><p><a href="{PREFIX}">All executions</a></p>"#,
                esc(why)
            ),
        )
    }

    fn list(&self, status: Option<&str>) -> LocalResponse {
        let filter = match status.filter(|s| !s.is_empty()) {
            None => None,
            Some(name) => match Status::from_name(name) {
                Some(status) => Some(status),
                None => return self.not_found("That is not an execution status."),
            },
        };
        match self.sfn().executions() {
            Ok(listing) => self.html(
                200,
                Kind::Executions,
                "Executions",
                &pages::list::render(&listing.records, filter, listing.unreadable.len()),
            ),
            Err(e) => self.problem(&e.to_string()),
        }
    }

    fn problem(&self, what: &str) -> LocalResponse {
        self.html(
            500,
            Kind::Refused,
            "Problem",
            &format!(r#"<h1>Problem</h1><p class="error">{}</p>"#, esc(what)),
        )
    }

    async fn execution(&self, name: &str) -> LocalResponse {
        let record = match self.sfn().execution(name) {
            Ok(Some(record)) => record,
            Ok(None) | Err(_) => {
                return self.not_found(&format!(
                    "There is no execution named {}.",
                    escape_controls(name)
                ));
            }
        };
        let made = Made::of(&record);
        let links = self.links(&made).await;
        let messages = self.backend.outbox().list().unwrap_or_default();
        let machine = self.machine_facts().await;
        let view = pages::execution::View {
            record: &record,
            graph: machine
                .as_ref()
                .map_err(String::as_str)
                .and_then(|m| m.graph()),
            made: &made,
            links: &links,
            email: email_for(&messages, &record.name),
            csrf: self.guard.token(),
        };
        self.html(
            200,
            Kind::Execution,
            &record.name,
            &pages::execution::render(&view),
        )
    }

    /// Presigned links to every object `made` names, through the local S3 endpoint.
    async fn links(&self, made: &Made) -> BTreeMap<String, String> {
        let keys = made
            .images
            .iter()
            .map(|i| &i.key)
            .chain(made.thumbnails.iter().map(|t| &t.key))
            .chain(made.manifest.iter());
        let mut links = BTreeMap::new();
        for key in keys {
            match self
                .store
                .presign_get(&made.bucket, key, LINK_LIFETIME)
                .await
            {
                Ok(url) => {
                    links.insert(key.clone(), url);
                }
                Err(e) => tracing::warn!(error = %e, "console: a link could not be made"),
            }
        }
        links
    }

    /// The state machine, described once (a failed DescribeStateMachine is asked again next time).
    async fn machine_facts(&self) -> Result<&Machine, String> {
        self.machine
            .get_or_try_init(|| async {
                let definition = self.backend.definition().await?;
                let graph = Graph::from_definition(&definition);
                Ok(Machine { definition, graph })
            })
            .await
    }

    fn execution_events(
        &self,
        request: &LocalRequest,
        name: &str,
        query: &BTreeMap<String, String>,
    ) -> PageResponse {
        // A reconnecting EventSource says where it stopped; a new one, what the page showed.
        let after = request
            .header("last-event-id")
            .or(query.get("after").map(String::as_str))
            .map_or(0, |id| {
                if id == "end" {
                    u64::MAX
                } else {
                    id.parse().unwrap_or(0)
                }
            });
        events::execution_stream(
            Arc::clone(self.backend.sfn()),
            &self.live,
            self.closing.subscribe(),
            name.to_owned(),
            after,
        )
    }

    /// The form fields of a POST, once it passed the same-origin and token checks.
    fn checked_form(&self, request: &LocalRequest) -> Result<BTreeMap<String, String>, Refusal> {
        let fields = form::fields(&String::from_utf8_lossy(&request.body));
        let token = request
            .header(TOKEN_HEADER)
            .or(fields.get(TOKEN_FIELD).map(String::as_str));
        self.guard.check_change(request, token)?;
        Ok(fields)
    }

    async fn stop(&self, request: &LocalRequest, name: &str) -> LocalResponse {
        if let Err(refusal) = self.checked_form(request) {
            return self.refused(403, &refusal);
        }
        match self.backend.stop(name, STOP_CAUSE).await {
            Ok(()) => see_other(&execution_url(name, "")),
            Err(e) => self.problem(&e),
        }
    }

    fn start_page(&self, form: &pages::start::Form, status: u16) -> LocalResponse {
        self.html(
            status,
            Kind::Start,
            "Start execution",
            &pages::start::render(
                form,
                self.guard.token(),
                self.backend.bucket(),
                self.backend.prompt_prefix(),
            ),
        )
    }

    /// The JSON box: checked as JSON here too (the script's check is only a convenience).
    async fn start_json(&self, request: &LocalRequest) -> LocalResponse {
        let fields = match self.checked_form(request) {
            Ok(fields) => fields,
            Err(refusal) => return self.refused(403, &refusal),
        };
        let text = fields.get("input").cloned().unwrap_or_default();
        let name = fields
            .get("name")
            .map(|n| n.trim().to_owned())
            .unwrap_or_default();
        let refuse = |why: String| {
            let form = pages::start::Form {
                name: name.clone(),
                input: Some(text.clone()),
                json_error: Some(why),
                ..pages::start::Form::default()
            };
            self.start_page(&form, 400)
        };
        let input: Value = match serde_json::from_str(&text) {
            Ok(input) => input,
            Err(e) => return refuse(format!("The input is not JSON: {e}.")),
        };
        match self.start_named(&name, &input).await {
            Ok(url) => see_other(&url),
            Err(why) => refuse(why),
        }
    }

    /// The prompt form: the same input `imagegen run` makes from its flags.
    async fn start_prompt(&self, request: &LocalRequest) -> LocalResponse {
        let fields = match self.checked_form(request) {
            Ok(fields) => fields,
            Err(refusal) => return self.refused(403, &refusal),
        };
        let field = |name: &str| {
            fields
                .get(name)
                .map(|v| v.trim().to_owned())
                .unwrap_or_default()
        };
        let form = pages::start::Form {
            prompt: fields.get("prompt").cloned().unwrap_or_default(),
            size: field("size"),
            seed: field("seed"),
            model: field("model"),
            ..pages::start::Form::default()
        };
        let refuse = |why: String| {
            let mut form = form.clone();
            form.prompt_error = Some(why);
            self.start_page(&form, 400)
        };
        let seed = match form.seed.as_str() {
            "" => None,
            text => match text.parse() {
                Ok(seed) => Some(seed),
                Err(_) => return refuse(format!("The seed {text:?} is not a whole number.")),
            },
        };
        let fields = InputFields {
            prompt: Some(form.prompt.clone()),
            size: Some(form.size.clone()).filter(|s| !s.is_empty()),
            seed,
            model: Some(form.model.clone()).filter(|m| !m.is_empty()),
            ..InputFields::default()
        };
        let input = match input::build(serde_json::Map::new(), &fields) {
            Ok(input) => input,
            Err(e) => return refuse(e.to_string().replace("--size", "The size")),
        };
        match self.start_named("", &input).await {
            Ok(url) => see_other(&url),
            Err(why) => refuse(why),
        }
    }

    /// StartExecution; the new execution's page, or why not.
    async fn start_named(&self, name: &str, input: &Value) -> Result<String, String> {
        let name = if name.is_empty() {
            input::execution_name(input)
        } else {
            name.to_owned()
        };
        self.backend
            .start(&name, input)
            .await
            .map(|()| execution_url(&name, ""))
    }

    /// A prompt file from the drop zone: stored under the prompt prefix, and its S3 notification
    /// delivered as the backend's S3 delivers it ([`Backend::upload`]). Answers JSON for the
    /// script: where to go next (the execution, or the list when S3 delivers after answering).
    async fn upload(
        &self,
        request: &LocalRequest,
        query: &BTreeMap<String, String>,
    ) -> LocalResponse {
        let answer = |status: u16, body: Value| {
            LocalResponse::new(status, "application/json", body.to_string())
        };
        if let Err(refusal) = self
            .guard
            .check_change(request, request.header(TOKEN_HEADER))
        {
            return answer(403, json!({"error": refusal.0}));
        }
        let given = query.get("name").map(String::as_str).unwrap_or_default();
        // A browser may send a path; only the file's own name is kept.
        let file_name = given.rsplit(['/', '\\']).next().unwrap_or_default();
        if file_name.is_empty() || file_name.chars().any(char::is_control) || file_name.len() > 255
        {
            return answer(
                400,
                json!({"error": format!("{:?} cannot be a prompt file's name.", escape_controls(given))}),
            );
        }
        let key = format!("{}{file_name}", self.backend.prompt_prefix());
        let bucket = self.backend.bucket();
        match self.backend.upload(file_name, request.body.clone()).await {
            Ok(Uploaded::Started(name)) => answer(
                200,
                json!({"key": key, "execution": name, "url": execution_url(&name, "")}),
            ),
            Ok(Uploaded::Skipped(reason)) => answer(
                400,
                json!({"key": key, "error": format!("s3://{bucket}/{key} was stored, but started nothing: {reason}.")}),
            ),
            // The list shows the execution as soon as the notification's function starts it.
            Ok(Uploaded::Notified) => answer(200, json!({"key": key, "url": PREFIX})),
            Err(e) => answer(500, json!({"key": key, "error": e})),
        }
    }

    fn outbox(&self) -> LocalResponse {
        let outbox = self.backend.outbox();
        match outbox.list() {
            Ok(messages) => self.html(
                200,
                Kind::Outbox,
                "Outbox",
                &pages::outbox::render(&messages, &outbox.dir().display().to_string()),
            ),
            Err(e) => self.problem(&e.to_string()),
        }
    }

    fn email(&self, id: &str) -> LocalResponse {
        let messages = match self.backend.outbox().list() {
            Ok(messages) => messages,
            Err(e) => return self.problem(&e.to_string()),
        };
        match messages.iter().find(|m| m.message_id == id) {
            Some(message) => self.html(
                200,
                Kind::Outbox,
                message.subject.as_deref().unwrap_or("Email"),
                &pages::outbox::render_one(message),
            ),
            None => self.not_found("There is no email with that id in the outbox."),
        }
    }

    async fn machine(&self) -> LocalResponse {
        match self.machine_facts().await {
            Ok(machine) => self.html(
                200,
                Kind::StateMachine,
                "State machine",
                &pages::machine::render(
                    machine_name(self.backend.state_machine_arn()),
                    self.backend.state_machine_arn(),
                    &machine.definition,
                    machine.graph(),
                ),
            ),
            Err(e) => self.problem(&e),
        }
    }
}

impl<B: Backend> Page for Console<B> {
    fn call(
        &self,
        request: LocalRequest,
    ) -> Pin<Box<dyn Future<Output = PageResponse> + Send + '_>> {
        Box::pin(self.handle(request))
    }
}

/// A state machine's name: the last part of its ARN (`...:stateMachine:NAME`).
fn machine_name(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

fn asset(content_type: &str, text: &'static str) -> LocalResponse {
    LocalResponse::new(200, content_type, text)
        .with_header("x-content-type-options", "nosniff")
        .with_header("cache-control", "no-cache")
}

/// 303 See Other: where the browser goes after a POST.
fn see_other(location: &str) -> LocalResponse {
    LocalResponse::new(303, "text/plain; charset=utf-8", "See the new page.")
        .with_header("location", location)
}
