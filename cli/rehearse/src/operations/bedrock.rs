//! Bedrock model ids and the ARNs `bedrock:InvokeModel` is authorised against.
//!
//! A system-defined cross-Region inference profile id is a geography prefix and a model id
//! (`us.stability.stable-image-core-v1:1`). Invoking it needs the permission on the profile's ARN
//! (`arn:aws:bedrock:REGION:ACCOUNT:inference-profile/ID`) and on the foundation model's ARN in
//! every Region the profile routes to. On AWS, `GetInferenceProfile` lists those Regions; the twin
//! has no such call, so [`profile_destinations`] is its stand-in.

/// A system-defined inference profile id, split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InferenceProfile<'a> {
    /// `us`, `eu`, `apac`, `global`, ...
    pub geography: &'a str,
    /// The model id it routes to (`stability.stable-image-core-v1:1`).
    pub model_id: &'a str,
}

impl<'a> InferenceProfile<'a> {
    /// The profile a model id names, if it is one (a known geography prefix before a model id
    /// that has its own provider prefix).
    pub fn parse(id: &'a str) -> Option<Self> {
        let (geography, model_id) = id.split_once('.')?;
        (profile_destinations(geography).is_some() && model_id.contains('.')).then_some(Self {
            geography,
            model_id,
        })
    }
}

/// The Regions a system-defined profile of this geography routes to, as the twin answers for
/// `GetInferenceProfile`. Which Regions a profile routes to is per model on AWS; these are the
/// ones the US, EU and APAC Stability Image profiles list (check `aws bedrock
/// get-inference-profile` for another model before relying on them). A global profile routes to
/// any commercial Region, which a policy grants with `arn:aws:bedrock:::foundation-model/ID`
/// (Region left empty); here it is the Region wildcard.
pub fn profile_destinations(geography: &str) -> Option<&'static [&'static str]> {
    Some(match geography {
        "us" => &["us-east-1", "us-east-2", "us-west-2"],
        "eu" => &["eu-central-1", "eu-west-1", "eu-west-3"],
        "apac" => &["ap-northeast-1", "ap-south-1", "ap-southeast-2"],
        "global" => &[""],
        _ => return None,
    })
}

/// The ARNs an `InvokeModel` with this model id is authorised against, in Bedrock's `region`,
/// and the profile's ARN when the call goes through one: Bedrock sets the condition key
/// `bedrock:InferenceProfileArn` to it, which is how a policy grants a destination Region's model
/// only through the profile (the CDK's `InvokeModelsThroughProfiles`).
pub(super) fn model_arns(
    region: &str,
    account: &str,
    model_id: &str,
) -> (Vec<String>, Option<String>) {
    match InferenceProfile::parse(model_id) {
        None => (vec![foundation_model_arn(region, model_id)], None),
        Some(profile) => {
            let profile_arn =
                format!("arn:aws:bedrock:{region}:{account}:inference-profile/{model_id}");
            let mut arns = vec![profile_arn.clone()];
            arns.extend(
                profile_destinations(profile.geography)
                    .unwrap_or_default()
                    .iter()
                    .map(|r| foundation_model_arn(r, profile.model_id)),
            );
            (arns, Some(profile_arn))
        }
    }
}

/// `arn:aws:bedrock:REGION::foundation-model/ID` (no account: foundation models are AWS's).
pub fn foundation_model_arn(region: &str, model_id: &str) -> String {
    format!("arn:aws:bedrock:{region}::foundation-model/{model_id}")
}
