//! `manifest.json`: the assembly's artifacts. Only stacks matter here, and for each the template
//! file, its environment's Region and the asset manifest it depends on.

use super::AssemblyError;
use serde_json::Value;
use std::path::Path;

/// One `aws:cloudformation:stack` artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackArtifact {
    /// The artifact id (`Imagegen`).
    pub id: String,
    /// The stack's name (`properties.stackName`, else the artifact id).
    pub stack_name: String,
    /// The template file, relative to the assembly.
    pub template_file: String,
    /// The environment's Region (`aws://ACCOUNT/REGION`), unless it is region-agnostic.
    pub region: Option<String>,
    /// The asset manifest file (of the `cdk:asset-manifest` artifact the stack depends on).
    pub asset_manifest: Option<String>,
}

pub(super) fn stacks(path: &Path) -> Result<Vec<StackArtifact>, AssemblyError> {
    let bad = |why: &str| AssemblyError::BadManifest {
        path: path.into(),
        why: why.into(),
    };
    let text = std::fs::read_to_string(path).map_err(|e| AssemblyError::Unreadable {
        path: path.into(),
        why: e.to_string(),
    })?;
    let manifest: Value = serde_json::from_str(&text).map_err(|e| AssemblyError::BadManifest {
        path: path.into(),
        why: format!("it is not JSON ({e})"),
    })?;
    let artifacts = manifest
        .get("artifacts")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("it has no artifacts"))?;
    let mut stacks = Vec::new();
    for (id, artifact) in artifacts {
        if artifact.get("type").and_then(Value::as_str) != Some("aws:cloudformation:stack") {
            continue;
        }
        let properties = artifact.get("properties");
        let text = |key: &str| {
            properties
                .and_then(|p| p.get(key))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let template_file = text("templateFile")
            .ok_or_else(|| bad(&format!("stack {id} names no templateFile")))?;
        let region = artifact
            .get("environment")
            .and_then(Value::as_str)
            .and_then(|e| e.strip_prefix("aws://"))
            .and_then(|e| e.split_once('/'))
            .map(|(_, region)| region.to_owned())
            .filter(|r| r != "unknown-region");
        let asset_manifest = artifact
            .get("dependencies")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(|dep| artifacts.get(dep))
            .find(|a| a.get("type").and_then(Value::as_str) == Some("cdk:asset-manifest"))
            .and_then(|a| a.get("properties")?.get("file")?.as_str())
            .map(str::to_owned);
        stacks.push(StackArtifact {
            id: id.clone(),
            stack_name: text("stackName").unwrap_or_else(|| id.clone()),
            template_file,
            region,
            asset_manifest,
        });
    }
    Ok(stacks)
}
