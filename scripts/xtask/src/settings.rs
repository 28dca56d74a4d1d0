//! What the configuration table says about each variable, found from the code: which functions
//! read it (each function's own `Config::from_env`, run against an environment that notes every
//! variable asked for), whether it is required (that `from_env` fails without it) and its default
//! (the constants `facts.json` takes its defaults from).

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt::Display;

use imagegen_core::config::{Env, vars};

/// Values for the variables without a default, valid enough for every function's `from_env`.
const SAMPLE: &[(&str, &str)] = &[
    (
        vars::STATE_MACHINE_ARN,
        "arn:aws:states:us-east-1:123456789012:stateMachine:imagegen",
    ),
    (vars::OUTPUT_BUCKET, "bucket"),
    (
        vars::TOPIC_ARN,
        "arn:aws:sns:us-east-1:123456789012:imagegen",
    ),
    (vars::MODEL_SLOT_TABLE, "slots"),
];

/// An environment of [`SAMPLE`] values (less one left out) that notes every name asked for.
#[derive(Debug, Default)]
struct Noting {
    left_out: Option<&'static str>,
    asked: RefCell<BTreeSet<String>>,
}

impl Env for Noting {
    fn var(&self, name: &str) -> Option<String> {
        self.asked.borrow_mut().insert(name.to_owned());
        SAMPLE
            .iter()
            .find(|(n, _)| *n == name && self.left_out != Some(name))
            .map(|(_, v)| (*v).to_owned())
    }
}

/// One function's settings, read the way the function reads them.
struct Function {
    name: &'static str,
    from_env: fn(&Noting) -> Result<(), String>,
}

fn ok<T, E: Display>(read: Result<T, E>) -> Result<(), String> {
    read.map(drop).map_err(|e| e.to_string())
}

/// Every function, in the workspace's order.
const FUNCTIONS: &[Function] = &[
    Function {
        name: "start-execution",
        from_env: |env| ok(start_execution::Config::from_env(env)),
    },
    Function {
        name: "validate-prompt",
        from_env: |env| ok(validate_prompt::Config::from_env(env)),
    },
    Function {
        name: "reserve-model-slot",
        from_env: |env| ok(reserve_model_slot::Config::from_env(env)),
    },
    Function {
        name: "generate-image",
        from_env: |env| ok(generate_image::Config::from_env(env)),
    },
    Function {
        name: "generate-thumbnails",
        from_env: |env| ok(generate_thumbnails::Config::from_env(env)),
    },
    Function {
        name: "notify-user",
        from_env: |env| ok(notify_user::Config::from_env(env)),
    },
    Function {
        name: "notify-backstop",
        from_env: |env| ok(notify_backstop::Config::from_env(env)),
    },
    Function {
        name: "http-api",
        from_env: |env| ok(http_api::Config::from_env(env)),
    },
    Function {
        name: "queue-consumer",
        from_env: |env| ok(queue_consumer::Config::from_env(env)),
    },
];

/// What the table says about one variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub name: &'static str,
    /// The functions that read it, in the workspace's order.
    pub functions: Vec<&'static str>,
    /// `required`, or the default in words or as a value.
    pub default: String,
    /// Its doc comment in `imagegen_core::config::vars`.
    pub meaning: String,
}

/// Every variable in `vars`, in its order. An error names a function whose settings could not be
/// read from the sample, or a variable no function reads or with no default written here.
pub fn settings() -> Result<Vec<Setting>, String> {
    let mut read_by: Vec<(&'static str, BTreeSet<String>)> = Vec::new();
    for function in FUNCTIONS {
        let env = Noting::default();
        (function.from_env)(&env)
            .map_err(|e| format!("{}'s settings could not be read: {e}", function.name))?;
        read_by.push((function.name, env.asked.take()));
    }
    vars::DOCUMENTED
        .iter()
        .map(|var| {
            let functions: Vec<_> = read_by
                .iter()
                .filter(|(_, asked)| asked.contains(var.name))
                .map(|(name, _)| *name)
                .collect();
            if functions.is_empty() {
                return Err(format!("no function reads {}", var.name));
            }
            let default = if required(var.name) {
                "required".to_owned()
            } else {
                default_of(var.name).ok_or_else(|| {
                    format!(
                        "{} has no default in scripts/xtask/src/settings.rs",
                        var.name
                    )
                })?
            };
            Ok(Setting {
                name: var.name,
                functions,
                default,
                meaning: var.meaning(),
            })
        })
        .collect()
}

/// A variable is required when some function's settings cannot be read without it.
fn required(name: &'static str) -> bool {
    FUNCTIONS.iter().any(|function| {
        let env = Noting {
            left_out: Some(name),
            ..Noting::default()
        };
        (function.from_env)(&env).is_err()
    })
}

/// The default of a variable that is not required, from the constants `facts.json` takes its
/// defaults from (values in backticks, words without).
fn default_of(name: &str) -> Option<String> {
    let code = |value: &dyn Display| format!("`{value}`");
    let thumbnails = generate_thumbnails::Config::default();
    Some(match name {
        vars::PROMPT_PREFIX => code(&imagegen_core::keys::PROMPT_PREFIX),
        vars::DEFAULT_MODEL_ID => code(&imagegen_core::model::DEFAULT_MODEL_ID),
        vars::ALLOWED_MODEL_IDS => "the default model".to_owned(),
        vars::MAX_PROMPT_FILE_BYTES => code(&imagegen_core::request::DEFAULT_MAX_PROMPT_FILE_BYTES),
        vars::BLOCKLIST => "none".to_owned(),
        vars::BEDROCK_REGION => "the function's own region".to_owned(),
        vars::MODEL_QUOTA_RPM => code(&reserve_model_slot::DEFAULT_QUOTA_RPM),
        vars::MAX_SLOT_WAIT_MINUTES => code(&reserve_model_slot::DEFAULT_MAX_SLOT_WAIT_MINUTES),
        vars::MODEL_POOLS => "one: the Bedrock Region at `MODEL_QUOTA_RPM`".to_owned(),
        vars::FALLBACK_MODEL_IDS => "none".to_owned(),
        vars::THUMBNAIL_SIZES => code(
            &thumbnails
                .spec
                .sizes
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(","),
        ),
        vars::THUMBNAIL_FORMATS | vars::THUMBNAIL_FORMAT => code(
            &thumbnails
                .spec
                .formats
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
        ),
        vars::THUMBNAIL_QUALITY => code(&thumbnails.spec.quality),
        vars::MAX_SOURCE_BYTES => code(&thumbnails.max_source_bytes),
        vars::MAX_SOURCE_PIXELS => code(&thumbnails.max_source_pixels),
        vars::PRESIGN_EXPIRY_SECONDS => {
            code(&imagegen_core::presign::DEFAULT_PRESIGN_EXPIRY_SECONDS)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variable_is_read_and_has_a_default_or_is_required() {
        let settings = settings().unwrap();
        assert_eq!(settings.len(), vars::ALL.len());
        let of = |name| settings.iter().find(|s| s.name == name).unwrap();
        assert_eq!(
            of(vars::STATE_MACHINE_ARN).functions,
            ["start-execution", "http-api", "queue-consumer"]
        );
        assert_eq!(of(vars::TOPIC_ARN).default, "required");
        assert_eq!(
            of(vars::THUMBNAIL_QUALITY).default,
            "`jpeg:80,webp:80,avif:75`"
        );
        assert_eq!(of(vars::PROMPT_PREFIX).default, "`prompts/`");
    }
}
