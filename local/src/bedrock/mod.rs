//! Bedrock runtime: an offline image model answering InvokeModel for each supported family.
//!
//! - [`schema`]: each model's request schema and limits, checked as Bedrock checks them.
//! - [`render`]: deterministic pictures from prompt and seed, as PNG, JPEG or WebP.
//! - [`behavior`]: injected failures (throttling, timeouts, content filter, corrupt images).
//! - [`quota`]: the account's requests-per-minute quotas, a token bucket per model and pool.
//! - [`transport`]: the HTTP face the SDK client talks to.

pub mod behavior;
pub mod quota;
pub mod render;
pub mod schema;
pub mod transport;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use base64::Engine as _;
use imagegen_core::model::ModelFamily;
use imagegen_statemachine::{Clock, TokioClock};
use serde_json::json;

pub use behavior::{FakeModelBehavior, FakeModelStats};
use quota::Quota;
use schema::ImageJob;

/// A Bedrock error, as the service names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("ValidationException: {0}")]
    Validation(String),
    /// A model past its end of life (HTTP 404).
    #[error("ResourceNotFoundException: {0}")]
    ResourceNotFound(String),
    #[error("ThrottlingException: {0}")]
    Throttling(String),
    #[error("ModelTimeoutException: {0}")]
    ModelTimeout(String),
    #[error("ServiceUnavailableException: {0}")]
    ServiceUnavailable(String),
    #[error("InternalServerException: {0}")]
    Internal(String),
}

impl ModelError {
    /// The error type in `x-amzn-errortype`.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Validation(_) => "ValidationException",
            Self::ResourceNotFound(_) => "ResourceNotFoundException",
            Self::Throttling(_) => "ThrottlingException",
            Self::ModelTimeout(_) => "ModelTimeoutException",
            Self::ServiceUnavailable(_) => "ServiceUnavailableException",
            Self::Internal(_) => "InternalServerException",
        }
    }

    /// The HTTP status Bedrock answers with.
    pub fn status(&self) -> u16 {
        match self {
            Self::Validation(_) => 400,
            Self::ResourceNotFound(_) => 404,
            Self::Throttling(_) => 429,
            Self::ModelTimeout(_) => 408,
            Self::ServiceUnavailable(_) => 503,
            Self::Internal(_) => 500,
        }
    }

    /// The message, without the type.
    pub fn message(&self) -> &str {
        match self {
            Self::Validation(m)
            | Self::ResourceNotFound(m)
            | Self::Throttling(m)
            | Self::ModelTimeout(m)
            | Self::ServiceUnavailable(m)
            | Self::Internal(m) => m,
        }
    }
}

/// The message Titan and Nova give when the content filter blocks a prompt.
pub const CONTENT_FILTER_MESSAGE: &str = "This request has been blocked by our content filters.";
/// What Bedrock answers (a `ResourceNotFoundException`) for a model past its end of life.
pub const END_OF_LIFE_MESSAGE: &str = "This model version has reached the end of its life. Please \
                                       refer to the AWS documentation for more details.";
/// The bytes a corrupt image carries instead of a picture.
pub const CORRUPT_IMAGE: &[u8] =
    b"imagegen fake model: deliberately corrupt image (not a PNG, JPEG or WebP)";

#[derive(Debug)]
struct State {
    behavior: FakeModelBehavior,
    stats: FakeModelStats,
    quota: Quota,
    /// The engine's clock, so that quota windows and arrival times agree with Wait states.
    clock: Arc<dyn Clock>,
}

impl State {
    /// Take a quota token for `model_id` in `pool`; false when the pool's quota is spent.
    fn within_quota(&mut self, pool: &str, key: &str) -> bool {
        let Some(rpm) = self.behavior.quota_of(pool) else {
            return true;
        };
        let now = self.clock.now();
        self.quota.try_take(key, rpm, now)
    }
}

/// The offline image model. Shared (behind an `Arc`) between its transport and whoever steers it.
#[derive(Debug)]
pub struct FakeModel {
    state: Mutex<State>,
}

impl Default for FakeModel {
    fn default() -> Self {
        Self::new(FakeModelBehavior::default())
    }
}

impl FakeModel {
    pub fn new(behavior: FakeModelBehavior) -> Self {
        Self {
            state: Mutex::new(State {
                behavior,
                stats: FakeModelStats::default(),
                quota: Quota::new(),
                clock: Arc::new(TokioClock::new()),
            }),
        }
    }

    /// Read the time from `clock` (the engine's) from now on.
    pub fn set_clock(&self, clock: Arc<dyn Clock>) {
        self.state().clock = clock;
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The current behaviour (with counts as far as they have run down).
    pub fn behavior(&self) -> FakeModelBehavior {
        self.state().behavior.clone()
    }

    /// Replace the behaviour.
    pub fn set_behavior(&self, behavior: FakeModelBehavior) {
        self.state().behavior = behavior;
    }

    /// Change part of the behaviour.
    pub fn update_behavior(&self, change: impl FnOnce(&mut FakeModelBehavior)) {
        change(&mut self.state().behavior);
    }

    /// What the model has done so far.
    pub fn stats(&self) -> FakeModelStats {
        self.state().stats.clone()
    }

    /// Answer one InvokeModel call made in `region`: the response body, or the error Bedrock
    /// would give.
    pub async fn invoke(
        &self,
        region: &str,
        model_id: &str,
        body: &[u8],
    ) -> Result<Vec<u8>, ModelError> {
        let pool = behavior::pool_of(region, model_id);
        // `MODEL@REGION`, or the profile's id alone (it names its model and its pool).
        let key = if pool == model_id {
            pool.clone()
        } else {
            format!("{model_id}@{pool}")
        };
        let (latency, max_side) = {
            let mut state = self.state();
            state.stats.calls += 1;
            let now = state.clock.now();
            state
                .stats
                .arrivals
                .entry(key.clone())
                .or_default()
                .push(now);
            if state.behavior.is_retired(model_id) {
                state.stats.retired += 1;
                return Err(ModelError::ResourceNotFound(END_OF_LIFE_MESSAGE.into()));
            }
            if !state.within_quota(&pool, &key) {
                state.stats.throttled += 1;
                state.stats.over_quota += 1;
                return Err(ModelError::Throttling(
                    "Too many requests, please wait before trying again.".into(),
                ));
            }
            let pool_throttled = state
                .behavior
                .pool_throttle
                .get_mut(&pool)
                .is_some_and(take);
            if pool_throttled || take(&mut state.behavior.throttle) {
                state.stats.throttled += 1;
                return Err(ModelError::Throttling(
                    "Too many requests, please wait before trying again.".into(),
                ));
            }
            if take(&mut state.behavior.unavailable) {
                state.stats.unavailable += 1;
                return Err(ModelError::ServiceUnavailable(
                    "Bedrock is unable to process your request.".into(),
                ));
            }
            (state.behavior.latency, state.behavior.max_image_side)
        };
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let (family, job) = match parse(model_id, body) {
            Ok((family, job)) => (family, shrink(job, max_side)),
            Err(e) => {
                self.state().stats.invalid += 1;
                return Err(e);
            }
        };
        let corrupt = {
            let mut state = self.state();
            if state.behavior.blocked_term(&job.prompt).is_some() {
                state.stats.filtered += 1;
                drop(state);
                return filtered(family, &job);
            }
            if take(&mut state.behavior.timeout) {
                state.stats.timed_out += 1;
                return Err(ModelError::ModelTimeout(
                    "Model has timed out in processing the request. Try your request again.".into(),
                ));
            }
            take(&mut state.behavior.corrupt)
        };
        let images = if corrupt {
            vec![CORRUPT_IMAGE.to_vec(); job.count as usize]
        } else {
            render_all(job.clone()).await?
        };
        {
            let mut state = self.state();
            state.stats.succeeded += 1;
            state.stats.images += u64::from(job.count);
            if corrupt {
                state.stats.corrupted += 1;
            }
        }
        Ok(response(family, &job, &images, None))
    }
}

/// The job drawn at most `max_side` pixels on its longest side (aspect ratio kept).
fn shrink(mut job: ImageJob, max_side: Option<u32>) -> ImageJob {
    if let Some(max) = max_side {
        let longest = job.width.max(job.height);
        if longest > max {
            let scale = |side: u32| (u64::from(side) * u64::from(max) / u64::from(longest)).max(1);
            job.width = u32::try_from(scale(job.width)).unwrap_or(max);
            job.height = u32::try_from(scale(job.height)).unwrap_or(max);
        }
    }
    job
}

/// Use up one of a count; true when there was one.
fn take(count: &mut u32) -> bool {
    if *count > 0 {
        *count -= 1;
        true
    } else {
        false
    }
}

fn parse(model_id: &str, body: &[u8]) -> Result<(ModelFamily, ImageJob), ModelError> {
    let (model, job) = schema::parse_request(model_id, body).map_err(ModelError::Validation)?;
    Ok((model.family(), job))
}

fn filtered(family: ModelFamily, job: &ImageJob) -> Result<Vec<u8>, ModelError> {
    match family {
        ModelFamily::Titan | ModelFamily::Nova => {
            Err(ModelError::Validation(CONTENT_FILTER_MESSAGE.into()))
        }
        ModelFamily::Stability => {
            let blank = render::blank(job.width, job.height, job.format)
                .map_err(|e| ModelError::Internal(e.to_string()))?;
            Ok(response(
                family,
                job,
                &[blank],
                Some("Filter reason: prompt"),
            ))
        }
    }
}

/// Render every image of a job off the async worker threads when there is a runtime to do it.
async fn render_all(job: ImageJob) -> Result<Vec<Vec<u8>>, ModelError> {
    let work = move || {
        (0..job.count)
            .map(|i| {
                render::render_image(
                    &job.prompt,
                    job.seed.wrapping_add(u64::from(i)),
                    job.width,
                    job.height,
                    job.format,
                )
                .map_err(|e| ModelError::Internal(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()
    };
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle
            .spawn_blocking(work)
            .await
            .map_err(|e| ModelError::Internal(format!("rendering failed: {e}")))?,
        Err(_) => work(),
    }
}

fn response(
    family: ModelFamily,
    job: &ImageJob,
    images: &[Vec<u8>],
    finish_reason: Option<&str>,
) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let encoded: Vec<String> = images.iter().map(|i| b64.encode(i)).collect();
    let body = match family {
        ModelFamily::Titan | ModelFamily::Nova => json!({ "images": encoded, "error": null }),
        ModelFamily::Stability => json!({
            "images": encoded,
            "seeds": [job.seed],
            "finish_reasons": [finish_reason],
        }),
    };
    body.to_string().into_bytes()
}
