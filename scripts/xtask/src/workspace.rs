//! The workspace's shape: no crate under `functions/` depends on another one (normal, dev or build).
//! Each function is its handler and wiring; a rule two functions share lives in a `shared/` crate.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// `cargo metadata --format-version 1 --no-deps` for the workspace at `root`.
pub fn metadata(root: &Path) -> Result<Value, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--manifest-path",
        ])
        .arg(root.join("Cargo.toml"))
        .output()
        .map_err(|e| format!("cargo metadata did not run: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("cargo metadata's JSON: {e}"))
}

/// Whether `path` lies under `{workspace_root}/functions/`.
fn in_functions(path: &str, workspace_root: &str) -> bool {
    Path::new(path).starts_with(Path::new(workspace_root).join("functions"))
}

/// Every dependency of a package under `functions/` on another package under `functions/`, as
/// `from -> to (kind)`, from `cargo metadata`'s JSON.
pub fn function_edges(metadata: &Value) -> Vec<String> {
    let root = metadata["workspace_root"].as_str().unwrap_or_default();
    let packages = metadata["packages"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    let functions: Vec<&str> = packages
        .iter()
        .filter(|p| in_functions(p["manifest_path"].as_str().unwrap_or_default(), root))
        .filter_map(|p| p["name"].as_str())
        .collect();
    let mut edges = Vec::new();
    for package in packages {
        let Some(from) = package["name"].as_str().filter(|n| functions.contains(n)) else {
            continue;
        };
        for dep in package["dependencies"].as_array().into_iter().flatten() {
            let name = dep["name"].as_str().unwrap_or_default();
            let by_path = dep["path"].as_str().is_some_and(|p| in_functions(p, root));
            if functions.contains(&name) || by_path {
                let kind = dep["kind"].as_str().unwrap_or("normal");
                edges.push(format!("{from} -> {name} ({kind})"));
            }
        }
    }
    edges
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn package(name: &str, dir: &str, deps: Value) -> Value {
        json!({
            "name": name,
            "manifest_path": format!("/repo/{dir}/Cargo.toml"),
            "dependencies": deps,
        })
    }

    #[test]
    fn a_function_depending_on_another_is_named_with_its_kind() {
        let metadata = json!({
            "workspace_root": "/repo",
            "packages": [
                package("http-api", "functions/http-api", json!([
                    {"name": "imagegen-core", "kind": null, "path": "/repo/shared/core"},
                    {"name": "validate-prompt", "kind": null, "path": "/repo/functions/validate-prompt"},
                ])),
                package("notify-backstop", "functions/notify-backstop", json!([
                    {"name": "notify-user", "kind": "dev", "path": "/repo/functions/notify-user"},
                    {"name": "tokio", "kind": null},
                ])),
                package("validate-prompt", "functions/validate-prompt", json!([])),
                package("notify-user", "functions/notify-user", json!([])),
                package("imagegen-cli", "cli", json!([
                    {"name": "http-api", "kind": null, "path": "/repo/functions/http-api"},
                ])),
            ],
        });
        assert_eq!(
            function_edges(&metadata),
            [
                "http-api -> validate-prompt (normal)",
                "notify-backstop -> notify-user (dev)"
            ]
        );
    }

    #[test]
    fn functions_on_shared_crates_only_pass() {
        let metadata = json!({
            "workspace_root": "/repo",
            "packages": [
                package("http-api", "functions/http-api", json!([
                    {"name": "imagegen-core", "kind": null, "path": "/repo/shared/core"},
                ])),
            ],
        });
        assert!(function_edges(&metadata).is_empty());
    }
}
