//! Parameter values: an override (`--parameters Key=Value`, as `cdk deploy` takes it), else the
//! default; SSM-typed parameters read the twin's own small SSM store (the CDK's bootstrap version).

use super::{StackOptions, Template, TemplateError};
use serde_json::Value;
use std::collections::BTreeMap;

/// One `--parameters` argument: `Key=Value`, or `Stack:Key=Value` for one stack of the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterOverride {
    pub stack: Option<String>,
    pub name: String,
    pub value: String,
}

impl std::str::FromStr for ParameterOverride {
    type Err = TemplateError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || TemplateError::BadOverride { text: text.into() };
        let (key, value) = text.split_once('=').ok_or_else(bad)?;
        let (stack, name) = match key.split_once(':') {
            Some((stack, name)) => (Some(stack.to_owned()), name),
            None => (None, key),
        };
        if name.is_empty() || stack.as_deref() == Some("") {
            return Err(bad());
        }
        Ok(Self {
            stack,
            name: name.to_owned(),
            value: value.to_owned(),
        })
    }
}

/// The SSM parameters the twin holds. The CDK's synthesizer adds `BootstrapVersion`
/// (`AWS::SSM::Parameter::Value<String>`, default `/cdk-bootstrap/<qualifier>/version`), read at
/// deploy time from the bootstrap stack; the twin answers as a freshly bootstrapped account would
/// (any version at or above the one the template's `CheckBootstrapVersion` rule asks for).
const BOOTSTRAP_VERSION: &str = "21";

fn ssm_value(ssm_name: &str) -> Option<&'static str> {
    let qualifier = ssm_name
        .strip_prefix("/cdk-bootstrap/")?
        .strip_suffix("/version")?;
    (!qualifier.is_empty() && !qualifier.contains('/')).then_some(BOOTSTRAP_VERSION)
}

/// Every parameter's value. Overrides for another stack are ignored; an override naming no
/// parameter of this template is an error (as `cdk deploy` refuses one).
pub(super) fn values(
    template: &Template,
    options: &StackOptions,
) -> Result<BTreeMap<String, Value>, TemplateError> {
    let declared = template.section("Parameters");
    let mut overrides = BTreeMap::new();
    for o in &options.parameters {
        if o.stack.as_deref().is_some_and(|s| s != options.stack_name) {
            continue;
        }
        if !declared.contains_key(&o.name) {
            return Err(TemplateError::UnknownParameter {
                name: o.name.clone(),
            });
        }
        overrides.insert(o.name.as_str(), o.value.as_str());
    }
    let mut values = BTreeMap::new();
    for (name, declaration) in declared {
        let kind = declaration
            .get("Type")
            .and_then(Value::as_str)
            .unwrap_or("String");
        let default = declaration.get("Default").map(scalar_text);
        let text = match (overrides.get(name.as_str()), kind) {
            (Some(v), _) => (*v).to_owned(),
            (None, k) if k.starts_with("AWS::SSM::Parameter::Value<") => {
                let ssm_name = default
                    .ok_or_else(|| TemplateError::MissingParameter { name: name.clone() })?;
                ssm_value(&ssm_name)
                    .ok_or_else(|| TemplateError::UnknownSsmParameter {
                        name: name.clone(),
                        ssm_name: ssm_name.clone(),
                    })?
                    .to_owned()
            }
            (None, _) => {
                default.ok_or_else(|| TemplateError::MissingParameter { name: name.clone() })?
            }
        };
        check_allowed(name, &text, declaration)?;
        check_constraints(name, kind, &text, declaration)?;
        values.insert(name.clone(), typed(kind, text));
    }
    Ok(values)
}

/// A default written as a number (`"Default": 3`) is the string `"3"`, as CloudFormation reads it.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// List types resolve to lists (`Ref` of a `CommaDelimitedList` is a list of strings).
fn typed(kind: &str, text: String) -> Value {
    let is_list = kind == "CommaDelimitedList"
        || (kind.starts_with("List<") && kind.ends_with('>'))
        || kind.contains("<List<");
    if is_list {
        Value::Array(
            text.split(',')
                .map(|s| Value::String(s.trim().to_owned()))
                .collect(),
        )
    } else {
        Value::String(text)
    }
}

/// `AllowedPattern` (the whole value must match), `MinLength`/`MaxLength` and, for numbers,
/// `MinValue`/`MaxValue`, as CloudFormation checks them before it creates anything; the
/// `ConstraintDescription` is the sentence when there is one.
fn check_constraints(
    name: &str,
    kind: &str,
    text: &str,
    declaration: &Value,
) -> Result<(), TemplateError> {
    let fail = |why: String| {
        let why = declaration
            .get("ConstraintDescription")
            .and_then(Value::as_str)
            .map_or(why, str::to_owned);
        Err(TemplateError::Constraint {
            name: name.into(),
            value: text.into(),
            why,
        })
    };
    let number = |key: &str| {
        declaration
            .get(key)
            .map(scalar_text)
            .and_then(|v| v.parse::<f64>().ok())
    };
    if let Some(pattern) = declaration.get("AllowedPattern").and_then(Value::as_str) {
        let whole = format!("^(?:{pattern})$");
        let regex = regex_lite::Regex::new(&whole).map_err(|e| TemplateError::Constraint {
            name: name.into(),
            value: text.into(),
            why: format!("its AllowedPattern {pattern} cannot be checked offline ({e})"),
        })?;
        if !regex.is_match(text) {
            return fail(format!("it does not match its AllowedPattern {pattern}"));
        }
    }
    let length = text.chars().count() as f64;
    if number("MinLength").is_some_and(|min| length < min)
        || number("MaxLength").is_some_and(|max| length > max)
    {
        return fail("its length is outside MinLength..MaxLength".into());
    }
    if kind == "Number" {
        let Ok(value) = text.parse::<f64>() else {
            return fail("it is not a number".into());
        };
        if number("MinValue").is_some_and(|min| value < min)
            || number("MaxValue").is_some_and(|max| value > max)
        {
            return fail("it is outside MinValue..MaxValue".into());
        }
    }
    Ok(())
}

fn check_allowed(name: &str, text: &str, declaration: &Value) -> Result<(), TemplateError> {
    let Some(allowed) = declaration.get("AllowedValues").and_then(Value::as_array) else {
        return Ok(());
    };
    let allowed: Vec<String> = allowed.iter().map(scalar_text).collect();
    if allowed.iter().any(|a| a == text) {
        return Ok(());
    }
    Err(TemplateError::NotAllowed {
        name: name.into(),
        value: text.into(),
        allowed: allowed.join(", "),
    })
}
