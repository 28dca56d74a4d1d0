//! `imagegen models` and `imagegen aws models`: where each model is in Bedrock's lifecycle (active,
//! legacy, retired), so a model going away is seen before its requests start failing with
//! `ModelRetired`.
//!
//! Offline, the lifecycle is the project's own table ([`imagegen_core::model::KNOWN_MODELS`], the
//! one home of the dates) plus what the offline model was told (`--fake-retired`); deployed, it is
//! what Bedrock's GetFoundationModel says in the configured Region.

use std::collections::HashMap;
use std::io::Write;

use aws_sdk_bedrock::operation::get_foundation_model::GetFoundationModelError;
use aws_sdk_bedrock::types::FoundationModelLifecycle;
use imagegen_core::display::escape_controls;
use imagegen_core::model::{self, KNOWN_MODELS, Lifecycle};
use imagegen_core::request::Rules;
use imagegen_local::FakeModelBehavior;

use crate::args::AwsModelsArgs;
use crate::error::CliError;

/// One line of the listing: the model id, then what is known of it.
struct Row {
    id: String,
    about: String,
}

/// Print rows with the ids in one column.
fn print(rows: &[Row], out: &mut (dyn Write + Send)) {
    let width = rows.iter().map(|r| r.id.chars().count()).max().unwrap_or(0);
    for row in rows {
        writeln!(
            out,
            "{:<width$}  {}",
            escape_controls(&row.id),
            escape_controls(&row.about)
        )
        .ok();
    }
}

/// `imagegen models`: the models the local pipeline allows (its `ALLOWED_MODEL_IDS`, from the
/// environment or local mode's default), then the other known ones, each with its lifecycle and
/// whether the offline model answers it as retired. Exit code 1 when an allowed model is retired
/// (in the table or offline), else 0.
pub fn offline(
    behavior: &FakeModelBehavior,
    overrides: &HashMap<String, String>,
    out: &mut (dyn Write + Send),
) -> Result<u8, CliError> {
    let env = imagegen_local_pipeline::settings::function_env("", "", overrides);
    let rules = Rules::from_env(&env).map_err(|e| CliError::Usage(e.to_string()))?;
    let others = KNOWN_MODELS
        .iter()
        .map(|m| m.id.to_owned())
        .filter(|id| !rules.allowed_model_ids.contains(id));
    let mut rows = Vec::new();
    let mut retired_allowed = false;
    for (id, allowed) in rules
        .allowed_model_ids
        .iter()
        .cloned()
        .map(|id| (id, true))
        .chain(others.map(|id| (id, false)))
    {
        let known = model::known_model(&id);
        let mut about = match known {
            Some(m) => format!("{}: {}", m.name, m.lifecycle),
            None => "not a model imagegen knows: its lifecycle is not known here (`imagegen aws \
                     models` asks Bedrock)"
                .to_owned(),
        };
        let told = behavior.is_retired(&id);
        if told {
            about.push_str("; retired offline (--fake-retired): answered as Bedrock answers a model past its end of life");
        }
        if id == rules.default_model_id {
            about.push_str(" (the default)");
        }
        if !allowed {
            about.push_str(" (not allowed here)");
        }
        let retired =
            told || known.is_some_and(|m| matches!(m.lifecycle, Lifecycle::Retired { .. }));
        retired_allowed |= allowed && retired;
        rows.push(Row { id, about });
    }
    writeln!(
        out,
        "Models of the local pipeline, by their lifecycle on Bedrock:"
    )
    .ok();
    print(&rows, out);
    Ok(u8::from(retired_allowed))
}

/// `imagegen aws models`: GetFoundationModel for each model (an inference profile's model for a
/// profile id), printing Bedrock's `modelLifecycle`: its status and the dates it gives. A model
/// Bedrock does not describe (past its end of life, or not offered in the Region) or a refused call
/// is printed with Bedrock's words. Exit code 1 when any model is not ACTIVE or LEGACY, else 0.
pub async fn deployed(
    bedrock: &aws_sdk_bedrock::Client,
    args: &AwsModelsArgs,
    out: &mut (dyn Write + Send),
) -> Result<u8, CliError> {
    let ids: Vec<String> = if args.models.is_empty() {
        KNOWN_MODELS.iter().map(|m| m.id.to_owned()).collect()
    } else {
        args.models.clone()
    };
    let regions = pool_regions(args.pools.as_deref())?;
    let mut rows = Vec::new();
    let mut all_available = true;
    for (region, id) in regions
        .iter()
        .flat_map(|r| ids.iter().map(move |id| (r, id.clone())))
    {
        let foundation = model::base_id(&id).to_owned();
        let request = bedrock.get_foundation_model().model_identifier(&foundation);
        let answer = match region {
            // A Region pool: the same client, its Region overridden for this call.
            Some(region) => {
                request
                    .customize()
                    .config_override(
                        aws_sdk_bedrock::config::Builder::default()
                            .region(aws_sdk_bedrock::config::Region::new(region.clone())),
                    )
                    .send()
                    .await
            }
            None => request.send().await,
        };
        let id = match region {
            Some(region) => format!("{id} in {region}"),
            None => id,
        };
        let mut about = match answer {
            Ok(output) => {
                let lifecycle = output.model_details().and_then(|d| d.model_lifecycle());
                match lifecycle {
                    Some(lifecycle) => describe(lifecycle),
                    None => {
                        all_available = false;
                        "Bedrock gave no lifecycle for it".to_owned()
                    }
                }
            }
            Err(err) => {
                all_available = false;
                let text = imagegen_aws::error_text(&err);
                match err.as_service_error() {
                    Some(GetFoundationModelError::ResourceNotFoundException(_)) => {
                        format!("not offered: retired, or not in this Region ({text})")
                    }
                    _ => format!("not looked up: {text}"),
                }
            }
        };
        if foundation != id {
            about.push_str(&format!(" (the model {foundation})"));
        }
        rows.push(Row { id, about });
    }
    writeln!(
        out,
        "Models on Bedrock (GetFoundationModel), by their lifecycle:"
    )
    .ok();
    print(&rows, out);
    Ok(u8::from(!all_available))
}

/// `LEGACY, legacy since 2026-03-31, public extended access from 2026-06-30, end of life
/// 2026-09-30`: the status and the dates Bedrock gives.
/// Where to look each model up: the configured Region (`None`) unless every pool is a Region
/// pool, and each Region pool's Region.
fn pool_regions(pools: Option<&str>) -> Result<Vec<Option<String>>, CliError> {
    let Some(text) = pools else {
        return Ok(vec![None]);
    };
    let pools = imagegen_core::pools::parse(Some(text), 1)
        .map_err(|e| CliError::Usage(format!("--pools: {e}")))?;
    let mut regions: Vec<Option<String>> = pools
        .iter()
        .filter_map(|p| match &p.place {
            imagegen_core::pools::Place::Region(r) => Some(Some(r.clone())),
            _ => None,
        })
        .collect();
    if regions.len() < pools.len() {
        regions.insert(0, None);
    }
    Ok(regions)
}

fn describe(lifecycle: &FoundationModelLifecycle) -> String {
    let mut text = lifecycle.status().as_str().to_owned();
    let dates = [
        ("launched", lifecycle.start_of_life_time()),
        ("legacy since", lifecycle.legacy_time()),
        (
            "public extended access from",
            lifecycle.public_extended_access_time(),
        ),
        ("end of life", lifecycle.end_of_life_time()),
    ];
    for (what, when) in dates {
        if let Some(day) = when.and_then(|t| chrono::DateTime::from_timestamp(t.secs(), 0)) {
            text.push_str(&format!(", {what} {}", day.format("%Y-%m-%d")));
        }
    }
    text
}
