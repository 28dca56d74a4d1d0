//! The cloud assembly `cdk synth` writes (`cdk.out`): `manifest.json` names the stacks (artifacts
//! of type `aws:cloudformation:stack`), each stack's template file and asset manifest; the asset
//! manifest says which file or directory of the assembly each asset (a function's code, a state
//! machine definition) is staged from.

mod assets;
mod manifest;

use crate::template::{Stack, StackOptions, Template, TemplateError};
use serde_json::Value;
use std::path::{Path, PathBuf};

pub use assets::{Asset, CodeAsset, Packaging};
pub use manifest::StackArtifact;

/// Why an assembly cannot be rehearsed; one sentence each.
#[derive(Debug, thiserror::Error)]
pub enum AssemblyError {
    #[error("no cloud assembly at {dir}: run `cdk synth` first (cdk/scripts/synth.sh)")]
    Missing { dir: PathBuf },
    #[error("{path} could not be read: {why}")]
    Unreadable { path: PathBuf, why: String },
    #[error("{path} is not a cloud assembly manifest: {why}")]
    BadManifest { path: PathBuf, why: String },
    #[error("the cloud assembly at {dir} has no stack named {name} (it has: {known})")]
    NoSuchStack {
        dir: PathBuf,
        name: String,
        known: String,
    },
    #[error(
        "the cloud assembly at {dir} has no stack with a state machine, so it is another app's (stacks: {known})"
    )]
    NoStateMachine { dir: PathBuf, known: String },
    #[error(
        "the cloud assembly at {dir} has several stacks with a state machine ({known}): choose one with --stack"
    )]
    Ambiguous { dir: PathBuf, known: String },
    #[error(
        "stack {stack} has no state machine, so it is not this app's pipeline: choose another with --stack"
    )]
    NotThePipeline { stack: String },
    #[error("{path}: {source}")]
    Template {
        path: PathBuf,
        #[source]
        source: TemplateError,
    },
    #[error("{what} names the asset {key}, which the assembly's asset manifest does not stage")]
    UnknownAsset { what: String, key: String },
}

/// Which stack to rehearse: the one named, or the only one with a state machine.
#[derive(Debug, Clone, Default)]
pub enum StackChoice {
    #[default]
    ThePipeline,
    Named(String),
}

/// A loaded cloud assembly: the chosen stack, its template and its assets.
#[derive(Debug)]
pub struct Assembly {
    dir: PathBuf,
    stack: StackArtifact,
    template: Template,
    assets: Vec<Asset>,
}

const STATE_MACHINE: &str = "AWS::StepFunctions::StateMachine";

impl Assembly {
    /// Reads `dir/manifest.json`, chooses the stack and reads its template and asset manifest.
    pub fn load(dir: &Path, choice: &StackChoice) -> Result<Self, AssemblyError> {
        let manifest_path = dir.join("manifest.json");
        if !manifest_path.is_file() {
            return Err(AssemblyError::Missing { dir: dir.into() });
        }
        let stacks = manifest::stacks(&manifest_path)?;
        let known = || {
            stacks
                .iter()
                .map(|s| s.stack_name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut loaded = Vec::new();
        for stack in &stacks {
            let template = read_template(&dir.join(&stack.template_file))?;
            loaded.push((stack.clone(), template));
        }
        let has_machine = |t: &Template| t.resources_of(STATE_MACHINE).next().is_some();
        let (stack, template) = match choice {
            StackChoice::Named(name) => {
                let (stack, template) = loaded
                    .into_iter()
                    .find(|(s, _)| &s.stack_name == name || &s.id == name)
                    .ok_or_else(|| AssemblyError::NoSuchStack {
                        dir: dir.into(),
                        name: name.clone(),
                        known: known(),
                    })?;
                if !has_machine(&template) {
                    return Err(AssemblyError::NotThePipeline {
                        stack: stack.stack_name,
                    });
                }
                (stack, template)
            }
            StackChoice::ThePipeline => {
                let mut candidates: Vec<_> =
                    loaded.into_iter().filter(|(_, t)| has_machine(t)).collect();
                match candidates.len() {
                    0 => {
                        return Err(AssemblyError::NoStateMachine {
                            dir: dir.into(),
                            known: known(),
                        });
                    }
                    1 => candidates.remove(0),
                    _ => {
                        return Err(AssemblyError::Ambiguous {
                            dir: dir.into(),
                            known: candidates
                                .iter()
                                .map(|(s, _)| s.stack_name.as_str())
                                .collect::<Vec<_>>()
                                .join(", "),
                        });
                    }
                }
            }
        };
        let assets = match &stack.asset_manifest {
            Some(file) => assets::read(&dir.join(file))?,
            None => Vec::new(),
        };
        Ok(Self {
            dir: dir.into(),
            stack,
            template,
            assets,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn stack(&self) -> &StackArtifact {
        &self.stack
    }

    pub fn template(&self) -> &Template {
        &self.template
    }

    /// Every file asset of the stack's asset manifest.
    pub fn assets(&self) -> &[Asset] {
        &self.assets
    }

    /// The asset staged as `object_key` (a template's `S3Key`, `DefinitionS3Location.Key`), with
    /// its path in this assembly. `what` names the reference for the error.
    pub fn asset(&self, object_key: &str, what: &str) -> Result<CodeAsset, AssemblyError> {
        self.assets
            .iter()
            .find(|a| a.object_keys.iter().any(|k| k == object_key))
            .map(|a| CodeAsset {
                path: self.dir.join(&a.source_path),
                packaging: a.packaging,
            })
            .ok_or_else(|| AssemblyError::UnknownAsset {
                what: what.into(),
                key: object_key.into(),
            })
    }
}

impl Assembly {
    /// The options that make this assembly's stack: its name and its environment's Region (the
    /// twin's Region for a region-agnostic stack); no parameter overrides yet.
    pub fn stack_options(&self) -> StackOptions {
        let mut options = StackOptions::new(self.stack.stack_name.clone());
        if let Some(region) = &self.stack.region {
            options.region.clone_from(region);
        }
        options
    }

    /// A function's code: the asset its `Code.S3Key` names.
    pub fn function_code(
        &self,
        stack: &Stack<'_>,
        logical_id: &str,
    ) -> Result<CodeAsset, AssemblyError> {
        let key = self.asset_key(stack, logical_id, "Code", "S3Key")?;
        self.asset(&key, &format!("{logical_id}.Code.S3Key"))
    }

    /// A state machine's definition text: its `DefinitionString`, or the file its
    /// `DefinitionS3Location` names (the CDK stages a definition from a file as an asset).
    pub fn definition(&self, stack: &Stack<'_>, logical_id: &str) -> Result<String, AssemblyError> {
        let template_path = || self.dir.join(&self.stack.template_file);
        let properties =
            stack
                .properties(logical_id)
                .map_err(|source| AssemblyError::Template {
                    path: template_path(),
                    source,
                })?;
        if let Some(text) = properties.get("DefinitionString").and_then(Value::as_str) {
            return Ok(text.to_owned());
        }
        if let Some(definition) = properties.get("Definition") {
            return Ok(definition.to_string());
        }
        let key = self.asset_key(stack, logical_id, "DefinitionS3Location", "Key")?;
        let asset = self.asset(&key, &format!("{logical_id}.DefinitionS3Location.Key"))?;
        std::fs::read_to_string(&asset.path).map_err(|e| AssemblyError::Unreadable {
            path: asset.path,
            why: e.to_string(),
        })
    }

    fn asset_key(
        &self,
        stack: &Stack<'_>,
        logical_id: &str,
        property: &str,
        key: &str,
    ) -> Result<String, AssemblyError> {
        let properties =
            stack
                .properties(logical_id)
                .map_err(|source| AssemblyError::Template {
                    path: self.dir.join(&self.stack.template_file),
                    source,
                })?;
        properties
            .get(property)
            .and_then(|p| p.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| AssemblyError::UnknownAsset {
                what: format!("{logical_id}.{property}"),
                key: format!("(no {key})"),
            })
    }
}

fn read_template(path: &Path) -> Result<Template, AssemblyError> {
    let text = std::fs::read_to_string(path).map_err(|e| AssemblyError::Unreadable {
        path: path.into(),
        why: e.to_string(),
    })?;
    Template::from_json(&text).map_err(|source| AssemblyError::Template {
        path: path.into(),
        source,
    })
}

#[cfg(test)]
mod tests;
