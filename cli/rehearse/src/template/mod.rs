//! The template resolver: a CloudFormation template and the stack it would make in the offline
//! twin's account. Parameters get their values (defaults or `Key=Value` overrides), conditions are
//! evaluated once, every resource gets the physical name CloudFormation would give it (its explicit
//! name, or a generated `<stack>-<logicalId>-<suffix>`), and intrinsics resolve against those.

mod conditions;
mod error;
mod intrinsics;
mod parameters;
mod physical;

use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub use error::TemplateError;
pub use parameters::ParameterOverride;

/// A parsed template (`<Stack>.template.json`), not yet resolved.
#[derive(Debug, Clone)]
pub struct Template {
    value: Value,
}

/// One resource of a template, as written.
#[derive(Debug, Clone, Copy)]
pub struct Resource<'t> {
    pub logical_id: &'t str,
    /// `AWS::S3::Bucket`, `Custom::S3BucketNotifications`, ...
    pub kind: &'t str,
    /// The unresolved `Properties` (empty when the resource has none).
    pub properties: &'t Map<String, Value>,
    /// The name of the condition the resource is created under, if any.
    pub condition: Option<&'t str>,
    /// The whole resource entry (`DependsOn`, `Metadata`, ...).
    pub entry: &'t Value,
}

static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);

impl Template {
    /// A template from its JSON text.
    pub fn from_json(text: &str) -> Result<Self, TemplateError> {
        let value: Value = serde_json::from_str(text).map_err(|e| TemplateError::NotATemplate {
            why: format!("it is not JSON ({e})"),
        })?;
        Self::from_value(value)
    }

    /// A template from its JSON value: it must have a `Resources` object.
    pub fn from_value(value: Value) -> Result<Self, TemplateError> {
        if !value.get("Resources").is_some_and(Value::is_object) {
            return Err(TemplateError::NotATemplate {
                why: "it has no Resources object".into(),
            });
        }
        Ok(Self { value })
    }

    /// The template as written.
    pub fn value(&self) -> &Value {
        &self.value
    }

    fn section(&self, name: &str) -> &Map<String, Value> {
        self.value
            .get(name)
            .and_then(Value::as_object)
            .unwrap_or(&EMPTY)
    }

    /// Every resource, in template order.
    pub fn resources(&self) -> impl Iterator<Item = Resource<'_>> {
        self.section("Resources")
            .iter()
            .map(|(id, entry)| resource(id, entry))
    }

    /// The resource with this logical id.
    pub fn resource(&self, logical_id: &str) -> Option<Resource<'_>> {
        self.section("Resources")
            .get_key_value(logical_id)
            .map(|(id, entry)| resource(id, entry))
    }

    /// The resources of one type, in template order.
    pub fn resources_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = Resource<'a>> + 'a {
        self.resources().filter(move |r| r.kind == kind)
    }
}

fn resource<'t>(logical_id: &'t str, entry: &'t Value) -> Resource<'t> {
    Resource {
        logical_id,
        kind: entry.get("Type").and_then(Value::as_str).unwrap_or(""),
        properties: entry
            .get("Properties")
            .and_then(Value::as_object)
            .unwrap_or(&EMPTY),
        condition: entry.get("Condition").and_then(Value::as_str),
        entry,
    }
}

/// Where and how the stack is made.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// The stack's name (the cloud assembly's `stackName`, `Imagegen` for this app).
    pub stack_name: String,
    /// The stack's Region: the assembly's environment Region, else the twin's.
    pub region: String,
    /// `Key=Value` overrides, as `cdk deploy --parameters` takes them.
    pub parameters: Vec<ParameterOverride>,
    /// The twin's endpoint (`http://127.0.0.1:4566`): a queue's `Ref` is its URL there, as the
    /// twin's SQS answers `GetQueueUrl`. Without one, the URL AWS would give.
    pub endpoint: Option<String>,
}

impl StackOptions {
    /// A stack named `stack_name` in the twin's Region, parameters at their defaults.
    pub fn new(stack_name: impl Into<String>) -> Self {
        Self {
            stack_name: stack_name.into(),
            region: imagegen_statemachine::REGION.to_owned(),
            parameters: Vec::new(),
            endpoint: None,
        }
    }
}

/// The template as a stack in the twin's account: parameters, conditions and physical names
/// settled, ready to resolve any part of the template.
#[derive(Debug)]
pub struct Stack<'t> {
    template: &'t Template,
    options: StackOptions,
    parameters: BTreeMap<String, Value>,
    conditions: BTreeMap<String, bool>,
    names: BTreeMap<String, String>,
}

impl<'t> Stack<'t> {
    /// Settles parameters, conditions and physical names; the first problem is the error.
    pub fn new(template: &'t Template, options: StackOptions) -> Result<Self, TemplateError> {
        let parameters = parameters::values(template, &options)?;
        let mut stack = Self {
            template,
            options,
            parameters,
            conditions: BTreeMap::new(),
            names: BTreeMap::new(),
        };
        stack.conditions = conditions::evaluate_all(&stack)?;
        stack.names = physical::generated_names(&stack);
        // Names that name other resources settle within as many rounds as the chain is long;
        // three is more than any template here needs.
        for _ in 0..3 {
            let explicit = physical::explicit_names(&stack)?;
            stack.names.extend(explicit);
        }
        Ok(stack)
    }

    pub fn template(&self) -> &'t Template {
        self.template
    }

    pub fn name(&self) -> &str {
        &self.options.stack_name
    }

    /// The twin's account: one home, `imagegen_statemachine::ACCOUNT_ID`.
    pub fn account(&self) -> &'static str {
        imagegen_statemachine::ACCOUNT_ID
    }

    pub fn region(&self) -> &str {
        &self.options.region
    }

    /// A parameter's value (a string, or a list for list-typed parameters).
    pub fn parameter(&self, name: &str) -> Option<&Value> {
        self.parameters.get(name)
    }

    /// A condition's value; unknown conditions are an error.
    pub fn condition(&self, name: &str) -> Result<bool, TemplateError> {
        self.conditions
            .get(name)
            .copied()
            .ok_or_else(|| TemplateError::UnknownCondition { name: name.into() })
    }

    /// Whether the resource is created (it exists and its condition, if any, holds).
    pub fn is_created(&self, logical_id: &str) -> bool {
        self.template.resource(logical_id).is_some_and(|r| {
            r.condition
                .is_none_or(|c| self.condition(c).unwrap_or(false))
        })
    }

    /// The resources the stack creates (conditions holding), in template order.
    pub fn created(&self) -> impl Iterator<Item = Resource<'t>> + '_ {
        self.template
            .resources()
            .filter(|r| self.is_created(r.logical_id))
    }

    /// The physical name CloudFormation would give the resource (its explicit name, or a
    /// generated one).
    pub fn physical_name(&self, logical_id: &str) -> Result<String, TemplateError> {
        physical::name_of(self, logical_id)
    }

    /// `Ref` of a resource, a parameter or a pseudo parameter.
    pub fn reference(&self, name: &str) -> Result<Value, TemplateError> {
        intrinsics::reference(self, name)
    }

    /// `Fn::GetAtt` of a resource.
    pub fn attribute(&self, logical_id: &str, attribute: &str) -> Result<Value, TemplateError> {
        physical::attribute(self, logical_id, attribute)
    }

    /// Any part of the template with every intrinsic resolved (`AWS::NoValue` drops the member
    /// it stands for; at the top it is `null`).
    pub fn resolve(&self, value: &Value) -> Result<Value, TemplateError> {
        Ok(intrinsics::resolve(self, value)?.unwrap_or(Value::Null))
    }

    /// A resource's `Properties`, resolved; errors name the resource.
    pub fn properties(&self, logical_id: &str) -> Result<Map<String, Value>, TemplateError> {
        let resource =
            self.template
                .resource(logical_id)
                .ok_or_else(|| TemplateError::UnknownReference {
                    name: logical_id.into(),
                })?;
        let resolved = self
            .resolve(&Value::Object(resource.properties.clone()))
            .map_err(|e| e.in_section(format!("Resources.{logical_id}.Properties")))?;
        Ok(match resolved {
            Value::Object(map) => map,
            _ => Map::new(),
        })
    }

    /// The stack's outputs resolved, as `cdk deploy` prints them (`Output name`, value); outputs
    /// whose condition is false are left out.
    pub fn outputs(&self) -> Result<Vec<(String, String)>, TemplateError> {
        let mut out = Vec::new();
        for (name, output) in self.template.section("Outputs") {
            if let Some(condition) = output.get("Condition").and_then(Value::as_str)
                && !self.condition(condition)?
            {
                continue;
            }
            let value = self
                .resolve(output.get("Value").unwrap_or(&Value::Null))
                .map_err(|e| e.in_section(format!("Outputs.{name}")))?;
            out.push((name.clone(), intrinsics::to_text(&value)));
        }
        Ok(out)
    }

    fn options(&self) -> &StackOptions {
        &self.options
    }
}

#[cfg(test)]
pub(crate) mod tests;
