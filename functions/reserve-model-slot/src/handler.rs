//! The handler: reserve the next slot, or give up once the attempts are spent.

use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, SecondsFormat, Utc};
use imagegen_core::error::{STATES_TIMEOUT, cause_message};
use imagegen_core::fallback;
use imagegen_core::model::ModelFamily;
use imagegen_core::pools::{self, Pool};
use imagegen_core::ports::{Clock, ModelSlots, SlotError, SlotRequest};
use imagegen_core::types::{ModelRef, SlotEvent, SlotState};
use imagegen_core::{ErrorName, PipelineError};
use serde_json::Value;

use crate::config::Config;
use crate::schedule::{MAX_ATTEMPTS, backoff, interval_ms};

/// Reserve the execution's next slot on its model's schedule. The output replaces `$.modelSlot`;
/// WaitForModelSlot waits until its `at`.
pub async fn handle(
    config: &Config,
    slots: &impl ModelSlots,
    clock: &impl Clock,
    event: Value,
) -> Result<SlotState, PipelineError> {
    let SlotEvent { request, previous } = serde_json::from_value(event).map_err(|e| {
        PipelineError::InvalidEvent(format!(
            "expected {{\"request\": {{\"model\": {{\"id\", ...}}}}, \"previous\": {{\"attempt\", ...}}}} for ReserveModelSlot: {e}"
        ))
    })?;
    if request.model.id.trim().is_empty() {
        return Err(PipelineError::InvalidEvent(
            "ReserveModelSlot needs the request's model id".to_owned(),
        ));
    }
    // The model this request is on: its own, or the fallback an earlier slot moved it to.
    let mut model = previous.model.clone().unwrap_or(request.model.clone());
    let mut previous = previous;
    if is_named(&previous, ErrorName::ModelRetired) {
        model = fallback_after(config, &request.model, &model, &previous)?;
        // The fallback starts afresh: its own attempts, no backoff, no pool to push back.
        previous = SlotState::default();
    }
    let model_id = model.id.clone();
    if previous.attempt >= MAX_ATTEMPTS {
        return Err(give_up(&model_id, &previous));
    }
    let now_ms = epoch_millis(clock.now());
    let wait = i64::try_from(backoff(previous.attempt).as_millis()).unwrap_or(i64::MAX);
    let not_before_ms = now_ms.saturating_add(wait);
    let pools = pools::serving(&config.pools, &model_id, config.quota_rpm);
    if let Some(pool) = pool_to_push_back(&pools, &previous) {
        slots
            .push_back(&pool.place.schedule_key(&model_id), not_before_ms)
            .await
            .map_err(storage_error)?;
    }
    let max_wait_ms = i64::from(config.max_wait_minutes) * 60_000;
    let requests: Vec<SlotRequest> = pools
        .iter()
        .map(|pool| SlotRequest {
            schedule: pool.place.schedule_key(&model_id),
            not_before_ms,
            interval_ms: interval_ms(pool.rpm),
            latest_ms: now_ms.saturating_add(max_wait_ms.max(wait)),
        })
        .collect();
    let (index, slot) = slots
        .reserve_earliest(&requests)
        .await
        .map_err(|e| match e {
            SlotError::Full { next_at_ms } => {
                queue_full(config, &model_id, &pools, next_at_ms - now_ms)
            }
            other => storage_error(other),
        })?;
    let pool = &pools[index];
    let wait_millis = u64::try_from(slot.saturating_sub(now_ms)).unwrap_or(0);
    let attempt = previous.attempt + 1;
    tracing::info!(
        model = %model_id,
        pool = %pool.place,
        attempt,
        wait_millis,
        pool_rpm = pool.rpm,
        "model slot reserved"
    );
    Ok(SlotState {
        attempt,
        at: Some(rfc3339(slot)),
        wait_millis: Some(wait_millis),
        pool: pool.place.name().map(str::to_owned),
        model: (model != request.model).then_some(model),
        last_error: None,
    })
}

/// Whether the previous slot's attempt failed with `name`.
fn is_named(previous: &SlotState, name: ErrorName) -> bool {
    previous
        .last_error
        .as_ref()
        .is_some_and(|e| ErrorName::parse(&e.error) == Some(name))
}

/// The model to move to now that `current` is retired (`FALLBACK_MODEL_IDS`), or the
/// `ModelRetired` error that ends the execution when none is left: GenerateImage's own message
/// (which names the model and the current ones), and what became of the fallbacks.
fn fallback_after(
    config: &Config,
    requested: &ModelRef,
    current: &ModelRef,
    previous: &SlotState,
) -> Result<ModelRef, PipelineError> {
    if let Some(next) = fallback::next(&config.fallbacks, &requested.id, &current.id)
        && let Some(family) = ModelFamily::from_model_id(next)
    {
        tracing::warn!(retired = %current.id, fallback = next, "model retired: moving to the fallback");
        return Ok(ModelRef {
            id: next.to_owned(),
            family,
        });
    }
    let said = previous
        .last_error
        .as_ref()
        .and_then(|e| e.cause.as_deref())
        .map(cause_message)
        .unwrap_or_else(|| format!("{} is retired", current.id));
    let fallbacks = if config.fallbacks.is_empty() {
        "no fallback model is set (FALLBACK_MODEL_IDS)".to_owned()
    } else {
        format!(
            "no fallback model is left (FALLBACK_MODEL_IDS: {})",
            config.fallbacks.join(", ")
        )
    };
    Err(PipelineError::ModelRetired(format!("{said}; {fallbacks}")))
}

fn storage_error(e: SlotError) -> PipelineError {
    PipelineError::StorageError(e.to_string())
}

/// The pool whose model throttled, was unavailable or timed out in the previous slot: its own
/// schedule is pushed back by the backoff, so the other pools take the next requests meanwhile.
fn pool_to_push_back<'a>(pools: &'a [Pool], previous: &SlotState) -> Option<&'a Pool> {
    let error = previous.last_error.as_ref()?;
    let pushes = error.error == STATES_TIMEOUT
        || matches!(
            ErrorName::parse(&error.error),
            Some(ErrorName::ModelThrottled | ErrorName::ModelUnavailable)
        );
    if !pushes {
        return None;
    }
    pools
        .iter()
        .find(|p| p.place.name() == previous.pool.as_deref())
}

/// The refusal of a request whose model is booked `ahead_ms` ahead, more than the longest wait:
/// what the failure email says, so the person knows it was not queued and when to try again.
fn queue_full(config: &Config, model_id: &str, pools: &[Pool], ahead_ms: i64) -> PipelineError {
    let pace: u32 = pools.iter().map(|p| p.rpm).sum();
    let quota = if pools.len() == 1 {
        format!("raise the model's quota ({pace} requests a minute now)")
    } else {
        format!(
            "raise its pools' quotas or add a pool ({} pools, {pace} requests a minute in all now)",
            pools.len()
        )
    };
    PipelineError::QueueFull(format!(
        "{model_id} is booked {} ahead, longer than the {} a request may wait (MAX_SLOT_WAIT_MINUTES); \
         this request was not queued: send it again later, or {quota}",
        minutes_text((ahead_ms.max(0) + 59_999) / 60_000),
        minutes_text(i64::from(config.max_wait_minutes)),
    ))
}

/// `1 h 30 min`, `45 min`, `2 h`.
fn minutes_text(minutes: i64) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// The error that ends the execution after [`MAX_ATTEMPTS`] slots: the last attempt's own error name,
/// so the failure email says what kept failing.
fn give_up(model_id: &str, previous: &SlotState) -> PipelineError {
    let (name, cause) = match &previous.last_error {
        Some(e) => (
            e.error.as_str(),
            e.cause
                .as_deref()
                .map(cause_message)
                .unwrap_or_else(|| e.error.clone()),
        ),
        None => ("", "no error was recorded".to_owned()),
    };
    let message = format!(
        "{model_id} still failed after {} attempts, each in a model slot of its own; the last one: {cause}",
        previous.attempt
    );
    if name == STATES_TIMEOUT {
        return PipelineError::ModelUnavailable(message);
    }
    match ErrorName::parse(name) {
        Some(ErrorName::ModelUnavailable) => PipelineError::ModelUnavailable(message),
        Some(ErrorName::StorageError) => PipelineError::StorageError(message),
        _ => PipelineError::ModelThrottled(message),
    }
}

fn epoch_millis(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// `2026-01-02T03:04:05.678Z`: what a Wait state's `TimestampPath` reads.
fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_said_in_hours_and_minutes() {
        assert_eq!(minutes_text(45), "45 min");
        assert_eq!(minutes_text(120), "2 h");
        assert_eq!(minutes_text(1_441), "24 h 1 min");
    }

    #[test]
    fn timestamps_are_rfc3339_with_milliseconds() {
        assert_eq!(rfc3339(1_767_323_045_678), "2026-01-02T03:04:05.678Z");
        assert_eq!(
            epoch_millis(UNIX_EPOCH + std::time::Duration::from_millis(42)),
            42
        );
    }
}
