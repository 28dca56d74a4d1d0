//! Model pools: the places one model can be called, each with its own quota. Bedrock's runtime
//! quotas are per model and per Region, with separate quotas for cross-Region inference profiles, so
//! a deployment multiplies its capacity by calling a model in several Regions or through a profile.
//!
//! `MODEL_POOLS` lists them as `NAME=RPM` items, comma-separated: `us-west-2=20,us-east-1=20,
//! us.stability.stable-image-core-v1:1=20`. A name is a Region (`us-west-2`: the request's model
//! is called there) or an inference profile id (`us.stability...`: that profile is called, from the
//! function's Bedrock Region, for the model it is a profile of). Unset, there is one pool: the
//! model in the function's Bedrock Region (`BEDROCK_REGION`) at `MODEL_QUOTA_RPM`, as before pools.
//!
//! Each pool has its own schedule (one item per model and pool, slots 60 s / RPM apart), so no pool
//! is asked more than its pace, and a pool that throttles pushes back only its own schedule.

use std::fmt;

use crate::model;

/// Accepted paces: slots are whole milliseconds apart, so 60,000 a minute at most.
pub const RPM_RANGE: std::ops::RangeInclusive<u32> = 1..=60_000;

/// Where a pool calls the model.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Place {
    /// The function's own Bedrock Region, the one pool when `MODEL_POOLS` is unset.
    Home,
    /// The request's model, called in this Region.
    Region(String),
    /// This cross-Region inference profile, called from the function's Bedrock Region; it serves
    /// only the model it is a profile of.
    Profile(String),
}

/// One pool: a place and its pace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    pub place: Place,
    /// InvokeModel requests a minute this pool takes for each model.
    pub rpm: u32,
}

/// What GenerateImage calls for a slot of a pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The model id to send (a profile pool sends the profile's id).
    pub model_id: String,
    /// The Region to call, when not the function's own Bedrock Region.
    pub region: Option<String>,
}

impl Place {
    /// The pool's name as configured and as a slot carries it (`None` for [`Place::Home`]).
    pub fn name(&self) -> Option<&str> {
        match self {
            Self::Home => None,
            Self::Region(name) | Self::Profile(name) => Some(name),
        }
    }

    /// The place a pool name names: a profile id has a geography prefix (`us.`), a Region does not.
    pub fn parse(name: &str) -> Result<Self, String> {
        let name = name.trim();
        if model::profile_geography(name).is_some() && name.contains('.') {
            return Ok(Self::Profile(name.to_owned()));
        }
        if is_region_name(name) {
            return Ok(Self::Region(name.to_owned()));
        }
        Err(format!(
            "{name:?} is neither a Region (like us-west-2) nor a cross-Region inference profile id \
             (like us.stability.stable-image-core-v1:1)"
        ))
    }

    /// Whether this place serves `model_id`: a Region and home serve every model, a profile only
    /// the model it is a profile of.
    pub fn serves(&self, model_id: &str) -> bool {
        match self {
            Self::Home | Self::Region(_) => true,
            Self::Profile(profile) => model::base_id(profile) == model::base_id(model_id),
        }
    }

    /// What to call for `model_id` in a slot of this place.
    pub fn invocation(&self, model_id: &str) -> Invocation {
        match self {
            Self::Home => Invocation {
                model_id: model_id.to_owned(),
                region: None,
            },
            Self::Region(region) => Invocation {
                model_id: model_id.to_owned(),
                region: Some(region.clone()),
            },
            Self::Profile(profile) => Invocation {
                model_id: profile.clone(),
                region: None,
            },
        }
    }

    /// The schedule's key for `model_id` in this place: the model id itself at home (the key
    /// before pools, so a deployment that adds none keeps its schedule), `MODEL@POOL` elsewhere.
    pub fn schedule_key(&self, model_id: &str) -> String {
        match self.name() {
            None => model_id.to_owned(),
            Some(pool) => format!("{model_id}@{pool}"),
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name().unwrap_or("the function's Bedrock Region"))
    }
}

/// What a Region's name looks like (`us-west-2`, `eu-central-1`, `us-gov-west-1`,
/// `us-isob-east-1`): two or more lower-case words and a number, joined by `-`. The CDK app checks
/// its context with the same pattern (`facts.json`).
pub const REGION_NAME_PATTERN: &str = "^[a-z]+(-[a-z]+)+-[0-9]+$";

fn is_region_name(name: &str) -> bool {
    // `None` only if the pattern were not a regex, which the tests rule out.
    static REGION: std::sync::LazyLock<Option<regex_lite::Regex>> =
        std::sync::LazyLock::new(|| regex_lite::Regex::new(REGION_NAME_PATTERN).ok());
    REGION.as_ref().is_some_and(|r| r.is_match(name))
}

/// The pools `MODEL_POOLS` lists (`NAME=RPM,...`; a name without `=RPM` takes `default_rpm`), or
/// home at `default_rpm` when it lists none. A name listed twice, a bad name or pace is an error.
pub fn parse(text: Option<&str>, default_rpm: u32) -> Result<Vec<Pool>, String> {
    let items: Vec<&str> = text
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if items.is_empty() {
        return Ok(vec![Pool {
            place: Place::Home,
            rpm: default_rpm,
        }]);
    }
    let mut pools: Vec<Pool> = Vec::with_capacity(items.len());
    for item in items {
        let (name, rpm) = match item.split_once('=') {
            Some((name, rpm)) => {
                let rpm = rpm
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|r| RPM_RANGE.contains(r));
                let Some(rpm) = rpm else {
                    return Err(format!(
                        "{item:?}: the pace after = must be requests a minute, {} to {}",
                        RPM_RANGE.start(),
                        RPM_RANGE.end()
                    ));
                };
                (name, rpm)
            }
            None => (item, default_rpm),
        };
        let place = Place::parse(name)?;
        if pools.iter().any(|p| p.place == place) {
            return Err(format!("{} is listed twice", name.trim()));
        }
        pools.push(Pool { place, rpm });
    }
    Ok(pools)
}

/// The pools that serve `model_id`, in the configured order. When none does (only profiles of
/// other models are listed), the model is called at home at `home_rpm`.
pub fn serving(pools: &[Pool], model_id: &str, home_rpm: u32) -> Vec<Pool> {
    let serving: Vec<Pool> = pools
        .iter()
        .filter(|p| p.place.serves(model_id))
        .cloned()
        .collect();
    if serving.is_empty() {
        vec![Pool {
            place: Place::Home,
            rpm: home_rpm,
        }]
    } else {
        serving
    }
}

/// The pools as `MODEL_POOLS` writes them (`NAME=RPM,...`; empty for home alone).
pub fn format(pools: &[Pool]) -> String {
    pools
        .iter()
        .filter_map(|p| p.place.name().map(|name| format!("{name}={}", p.rpm)))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CORE: &str = "stability.stable-image-core-v1:1";

    #[test]
    fn unset_is_home_at_the_quota() {
        assert_eq!(
            parse(None, 10).unwrap(),
            [Pool {
                place: Place::Home,
                rpm: 10
            }]
        );
        assert_eq!(parse(Some(" , "), 7).unwrap()[0].rpm, 7);
    }

    #[test]
    fn regions_and_profiles_with_their_paces() {
        let pools = parse(
            Some("us-west-2=20, us-east-1 ,us.stability.stable-image-core-v1:1=30"),
            10,
        )
        .unwrap();
        assert_eq!(
            pools,
            [
                Pool {
                    place: Place::Region("us-west-2".into()),
                    rpm: 20
                },
                Pool {
                    place: Place::Region("us-east-1".into()),
                    rpm: 10
                },
                Pool {
                    place: Place::Profile(format!("us.{CORE}")),
                    rpm: 30
                },
            ]
        );
        assert_eq!(
            format(&pools),
            "us-west-2=20,us-east-1=10,us.stability.stable-image-core-v1:1=30"
        );
        assert_eq!(parse(Some(&format(&pools)), 10).unwrap(), pools);
    }

    #[test]
    fn bad_names_paces_and_repeats_are_refused() {
        for (text, says) in [
            ("us-west-2=0", "pace"),
            ("us-west-2=fast", "pace"),
            ("us-west-2=60001", "pace"),
            ("US-West-2=5", "neither a Region"),
            ("stability.stable-image-core-v1:1=5", "neither a Region"),
            ("us-west=5", "neither a Region"),
            ("us-west-2=5,us-west-2=6", "twice"),
        ] {
            let err = parse(Some(text), 10).unwrap_err();
            assert!(err.contains(says), "{text}: {err}");
        }
        assert!(parse(Some("us-gov-west-1=5,eu-central-1=5"), 1).is_ok());
    }

    #[test]
    fn region_names_are_lower_case_words_and_a_number() {
        for name in [
            "us-east-1",
            "ap-southeast-5",
            "us-gov-west-1",
            "us-isob-east-1",
            "eu-isoe-west-1",
        ] {
            assert!(is_region_name(name), "{name}");
        }
        for name in [
            "mars",
            "us-east",
            "US-east-1",
            "us-east-1a",
            "us--east-1",
            "-us-east-1",
            "us-east-1 ",
            "us_east_1",
            "",
        ] {
            assert!(!is_region_name(name), "{name:?}");
        }
    }

    #[test]
    fn a_profile_serves_only_its_model_and_home_steps_in_for_the_rest() {
        let pools = parse(Some(&format!("us.{CORE}=20,eu-west-1=5")), 10).unwrap();
        assert_eq!(serving(&pools, CORE, 10).len(), 2);
        let ultra = serving(&pools, "stability.stable-image-ultra-v1:1", 10);
        assert_eq!(ultra.len(), 1);
        assert_eq!(ultra[0].place, Place::Region("eu-west-1".into()));
        let only_profile = parse(Some(&format!("us.{CORE}=20")), 10).unwrap();
        assert_eq!(
            serving(&only_profile, "stability.stable-image-ultra-v1:1", 9),
            [Pool {
                place: Place::Home,
                rpm: 9
            }]
        );
    }

    #[test]
    fn each_place_has_its_schedule_and_its_call() {
        assert_eq!(Place::Home.schedule_key(CORE), CORE);
        let west = Place::Region("us-west-2".into());
        assert_eq!(west.schedule_key(CORE), format!("{CORE}@us-west-2"));
        assert_eq!(
            west.invocation(CORE),
            Invocation {
                model_id: CORE.into(),
                region: Some("us-west-2".into())
            }
        );
        let profile = Place::Profile(format!("us.{CORE}"));
        assert_eq!(
            profile.invocation(CORE),
            Invocation {
                model_id: format!("us.{CORE}"),
                region: None
            }
        );
        assert_eq!(Place::parse("us-west-2").unwrap(), west);
        assert_eq!(Place::parse(&format!("us.{CORE}")).unwrap(), profile);
    }
}
