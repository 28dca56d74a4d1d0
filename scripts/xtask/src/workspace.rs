//! The workspace's shape: no crate under `functions/` depends on another one (normal, dev or build).
//! Each function is its handler and wiring; a rule two functions share lives in a `shared/` crate.
//! And one module style: a module with submodules is `foo/mod.rs`, never `foo.rs` beside `foo/`.

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

/// Every module under `dir` written as `foo.rs` beside a `foo/` folder (the workspace writes such a
/// module as `foo/mod.rs`), as paths relative to `dir`. `target/` and `node_modules/` are skipped.
pub fn mixed_module_styles(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    walk(dir, dir, &mut found);
    found.sort();
    found
}

fn walk(root: &Path, dir: &Path, found: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if !path.is_dir()
            || [".git", "target", "node_modules", "cdk.out"]
                .iter()
                .any(|s| name == *s)
        {
            continue;
        }
        if path.with_extension("rs").is_file() {
            let shown = path.strip_prefix(root).unwrap_or(&path);
            found.push(format!(
                "{}.rs beside {}/",
                shown.display(),
                shown.display()
            ));
        }
        walk(root, &path, found);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_workspace_has_one_module_style() {
        let mixed = mixed_module_styles(&crate::generated::root());
        assert!(
            mixed.is_empty(),
            "write these as foo/mod.rs: {}",
            mixed.join("; ")
        );
    }

    #[test]
    fn a_module_file_beside_its_folder_is_found() {
        let dir = std::env::temp_dir().join(format!("xtask-style-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src/a")).unwrap();
        std::fs::create_dir_all(dir.join("src/b")).unwrap();
        std::fs::create_dir_all(dir.join("target/c")).unwrap();
        std::fs::write(dir.join("src/a.rs"), "").unwrap();
        std::fs::write(dir.join("src/b/mod.rs"), "").unwrap();
        std::fs::write(dir.join("target/c.rs"), "").unwrap();
        let found = mixed_module_styles(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(found, vec!["src/a.rs beside src/a/".to_owned()]);
    }

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
