//! What the rehearsal makes of each resource of the stack: rehearsed, not rehearsed (listed by
//! logical id and type, with the reason), or not created (its condition is false). A rehearsed
//! resource with a property that changes its behaviour and is not reproduced stops the start,
//! every such property named at once.

mod kinds;
mod values;

use crate::template::{Stack, TemplateError};
use serde_json::Value;

/// How one resource takes part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rehearsal {
    Rehearsed,
    /// Not rehearsed, and why.
    NotRehearsed(String),
    /// Its condition is false: CloudFormation would not create it either.
    NotCreated {
        condition: String,
    },
}

/// One resource of the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub logical_id: String,
    pub kind: String,
    pub rehearsal: Rehearsal,
}

/// Every resource of the template, in template order.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub entries: Vec<Entry>,
}

/// One property the rehearsal refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    pub logical_id: String,
    pub kind: String,
    /// `FilterCriteria`, or a path such as `Integration.Type`.
    pub property: String,
    /// Why, when it is a value that is refused rather than the property itself.
    pub why: Option<String>,
}

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self {
            logical_id,
            kind,
            property,
            why,
        } = self;
        match why {
            Some(why) => write!(f, "{logical_id} ({kind}): {property} {why}"),
            None => write!(
                f,
                "{logical_id} ({kind}): {property} changes how it behaves, and the rehearsal does not reproduce it"
            ),
        }
    }
}

/// Why a stack cannot be rehearsed faithfully.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("{}", unsupported_sentence(.0))]
    Unsupported(Vec<Unsupported>),
}

fn unsupported_sentence(all: &[Unsupported]) -> String {
    match all {
        [one] => format!("cannot rehearse {one}"),
        many => format!(
            "cannot rehearse {} properties: {}",
            many.len(),
            many.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

impl Inventory {
    /// Classifies every resource; refuses the stack if a rehearsed resource has a property that
    /// changes behaviour the rehearsal does not reproduce.
    pub fn take(stack: &Stack<'_>) -> Result<Self, InventoryError> {
        let template = stack.template();
        let providers = custom_resource_providers(stack)?;
        let mut entries = Vec::new();
        let mut unsupported = Vec::new();
        for r in template.resources() {
            let rehearsal = if let Some(condition) = r.condition
                && !stack.condition(condition)?
            {
                Rehearsal::NotCreated {
                    condition: condition.into(),
                }
            } else if providers.iter().any(|p| p == r.logical_id) {
                Rehearsal::NotRehearsed(
                    "the CDK's custom-resource provider: the rehearsal applies its resource itself"
                        .into(),
                )
            } else if let Some(kind) = kinds::rehearsed(r.kind) {
                let properties = stack.properties(r.logical_id)?;
                let mut found = Vec::new();
                for name in properties.keys() {
                    if !kind.properties.contains(&name.as_str())
                        && !kinds::NEUTRAL.contains(&name.as_str())
                    {
                        found.push((name.clone(), None));
                    }
                }
                found.extend(values::check(r.kind, &properties));
                unsupported.extend(found.into_iter().map(|(property, why)| Unsupported {
                    logical_id: r.logical_id.into(),
                    kind: r.kind.into(),
                    property,
                    why,
                }));
                Rehearsal::Rehearsed
            } else {
                let why = kinds::NOT_REHEARSED
                    .iter()
                    .find(|(k, _)| *k == r.kind)
                    .map_or("a type the rehearsal does not know", |(_, why)| why);
                Rehearsal::NotRehearsed(why.into())
            };
            entries.push(Entry {
                logical_id: r.logical_id.into(),
                kind: r.kind.into(),
                rehearsal,
            });
        }
        if !unsupported.is_empty() {
            return Err(InventoryError::Unsupported(unsupported));
        }
        Ok(Self { entries })
    }

    /// The entries rehearsed.
    pub fn rehearsed(&self) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .filter(|e| e.rehearsal == Rehearsal::Rehearsed)
    }

    /// The entries created but not rehearsed.
    pub fn not_rehearsed(&self) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .filter(|e| matches!(e.rehearsal, Rehearsal::NotRehearsed(_)))
    }

    /// The entries not created (their condition is false).
    pub fn not_created(&self) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .filter(|e| matches!(e.rehearsal, Rehearsal::NotCreated { .. }))
    }
}

impl Inventory {
    /// What the start prints: a count of what is rehearsed by type, then one line for each resource
    /// not rehearsed or not created, by logical id and type.
    pub fn report(&self) -> Vec<String> {
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for e in self.rehearsed() {
            match counts.iter_mut().find(|(k, _)| *k == e.kind) {
                Some((_, n)) => *n += 1,
                None => counts.push((&e.kind, 1)),
            }
        }
        let total: usize = counts.iter().map(|(_, n)| n).sum();
        let mut lines = vec![format!(
            "rehearsing {total} resources: {}",
            counts
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        )];
        for e in &self.entries {
            match &e.rehearsal {
                Rehearsal::Rehearsed => {}
                Rehearsal::NotRehearsed(why) => lines.push(format!(
                    "not rehearsed: {} ({}): {why}",
                    e.logical_id, e.kind
                )),
                Rehearsal::NotCreated { condition } => lines.push(format!(
                    "not created: {} ({}): its condition {condition} is false",
                    e.logical_id, e.kind
                )),
            }
        }
        lines
    }
}

/// The functions that are custom-resource providers (the `ServiceToken` of a rehearsed custom
/// resource, e.g. the CDK's BucketNotificationsHandler): the rehearsal applies the custom
/// resource itself, so their code never runs.
fn custom_resource_providers(stack: &Stack<'_>) -> Result<Vec<String>, TemplateError> {
    let mut providers = Vec::new();
    for r in stack.created() {
        if !r.kind.starts_with("Custom::") || kinds::rehearsed(r.kind).is_none() {
            continue;
        }
        let Some(token) = r.properties.get("ServiceToken") else {
            continue;
        };
        let token = stack.resolve(token)?;
        for f in stack.created() {
            if f.kind == "AWS::Lambda::Function"
                && stack.attribute(f.logical_id, "Arn").ok().as_ref() == Some(&token)
            {
                providers.push(f.logical_id.to_owned());
            }
        }
    }
    Ok(providers)
}

/// A property's value as text, for value checks.
fn text(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str)
}

#[cfg(test)]
mod tests;
