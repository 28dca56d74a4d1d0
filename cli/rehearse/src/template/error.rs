//! What can be wrong with a template or its parameters: each a sentence a person can act on.

/// A template the rehearsal cannot resolve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the template is not a CloudFormation template: {why}")]
    NotATemplate { why: String },
    #[error("in {section}: {source}")]
    In {
        section: String,
        #[source]
        source: Box<TemplateError>,
    },
    #[error("Ref {name} names no resource, parameter or pseudo parameter of the template")]
    UnknownReference { name: String },
    #[error(
        "Fn::GetAtt {logical_id}.{attribute}: a {kind} has no attribute {attribute} the rehearsal knows"
    )]
    UnknownAttribute {
        logical_id: String,
        kind: String,
        attribute: String,
    },
    #[error(
        "{logical_id} is not created (its condition {condition} is false), yet something refers to it"
    )]
    NotCreated {
        logical_id: String,
        condition: String,
    },
    #[error("{function} cannot be rehearsed: {why}")]
    Refused {
        function: &'static str,
        why: &'static str,
    },
    #[error("{function} is not an intrinsic function the rehearsal resolves")]
    UnknownFunction { function: String },
    #[error("{function} is malformed: {why}")]
    Malformed { function: &'static str, why: String },
    #[error("parameter {name} has no default: pass --parameters {name}=VALUE")]
    MissingParameter { name: String },
    #[error("--parameters {name}: the template has no parameter {name}")]
    UnknownParameter { name: String },
    #[error("--parameters {text}: expected Key=Value (or Stack:Key=Value), as cdk deploy takes it")]
    BadOverride { text: String },
    #[error("parameter {name} is {value:?}, not one of its AllowedValues ({allowed})")]
    NotAllowed {
        name: String,
        value: String,
        allowed: String,
    },
    #[error("parameter {name} is {value:?}: {why}")]
    Constraint {
        name: String,
        value: String,
        why: String,
    },
    #[error(
        "parameter {name} reads the SSM parameter {ssm_name}, which the twin does not hold: pass --parameters {name}=VALUE"
    )]
    UnknownSsmParameter { name: String, ssm_name: String },
    #[error("condition {name} is not in the template's Conditions")]
    UnknownCondition { name: String },
    #[error("condition {name} refers to itself through other conditions")]
    CircularCondition { name: String },
}

impl TemplateError {
    /// This error, said to be in `section` (`Resources.X.Properties`, `Outputs.Y`).
    pub fn in_section(self, section: String) -> Self {
        match self {
            // The innermost place is the most useful one; keep it.
            Self::In { .. } => self,
            other => Self::In {
                section,
                source: Box::new(other),
            },
        }
    }
}
