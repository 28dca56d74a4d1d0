//! The asset manifest (`<Stack>.assets.json`): each file asset's source in the assembly
//! (`asset.<hash>.zip`, a directory, or a JSON file such as the state machine's definition) and
//! the object keys it is published under, which the template's `S3Key`s name.

use super::AssemblyError;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// How an asset is staged: a file as it is (the prebuilt `bootstrap.zip`, a definition), or a
/// directory that publishing zips (cargo-lambda-cdk's bundle: a directory with `bootstrap`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packaging {
    File,
    ZipDirectory,
}

/// One file asset of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// The asset's hash (its key in the manifest).
    pub hash: String,
    /// `ValidatePrompt/Function/Code`, when the CDK recorded one.
    pub display_name: Option<String>,
    /// Relative to the assembly.
    pub source_path: PathBuf,
    pub packaging: Packaging,
    /// The object keys of its destinations (`<hash>.zip`).
    pub object_keys: Vec<String>,
}

/// An asset found for a template reference: where it is in this assembly and how it is staged.
/// The path need not exist: a fixture or a copied template may come without its assets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeAsset {
    pub path: PathBuf,
    pub packaging: Packaging,
}

pub(super) fn read(path: &Path) -> Result<Vec<Asset>, AssemblyError> {
    let bad = |why: String| AssemblyError::BadManifest {
        path: path.into(),
        why,
    };
    let text = std::fs::read_to_string(path).map_err(|e| AssemblyError::Unreadable {
        path: path.into(),
        why: e.to_string(),
    })?;
    let manifest: Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("it is not JSON ({e})")))?;
    let Some(files) = manifest.get("files").and_then(Value::as_object) else {
        return Ok(Vec::new());
    };
    let mut assets = Vec::new();
    for (hash, asset) in files {
        let source = asset.get("source");
        let source_path = source
            .and_then(|s| s.get("path"))
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("asset {hash} has no source path")))?;
        let packaging = match source
            .and_then(|s| s.get("packaging"))
            .and_then(Value::as_str)
        {
            Some("zip") => Packaging::ZipDirectory,
            _ => Packaging::File,
        };
        let object_keys = asset
            .get("destinations")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|d| d.values())
            .filter_map(|d| d.get("objectKey").and_then(Value::as_str))
            .map(str::to_owned)
            .collect();
        assets.push(Asset {
            hash: hash.clone(),
            display_name: asset
                .get("displayName")
                .and_then(Value::as_str)
                .map(str::to_owned),
            source_path: PathBuf::from(source_path),
            packaging,
            object_keys,
        });
    }
    Ok(assets)
}
