//! The files generated from the code, and where in them: `cdk/lib/facts.json` whole, and a table
//! between two markers in each of `docs/configuration.md` and `docs/errors.md` (the prose around
//! the markers is written by hand and left alone).

use std::path::{Path, PathBuf};

use crate::{facts, settings, tables};

/// The repository's root (two levels above this crate).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where generated text goes in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// The whole file.
    Whole,
    /// Between `<!-- BEGIN GENERATED (cargo xtask facts): {section} -->` and
    /// `<!-- END GENERATED: {section} -->`.
    Section(&'static str),
}

/// One generated text and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Relative to the repository's root.
    pub path: &'static str,
    pub place: Place,
    pub text: String,
}

/// Everything `cargo xtask facts` writes.
pub fn outputs() -> Result<Vec<Output>, String> {
    Ok(vec![
        Output {
            path: facts::FACTS_FILE,
            place: Place::Whole,
            text: facts::facts_text(),
        },
        Output {
            path: "docs/configuration.md",
            place: Place::Section("configuration"),
            text: tables::configuration(&settings::settings()?),
        },
        Output {
            path: "docs/errors.md",
            place: Place::Section("errors"),
            text: tables::errors(),
        },
    ])
}

/// `current` (a file's text) with `output` in its place. An error says which marker is missing.
pub fn apply(current: &str, output: &Output) -> Result<String, String> {
    let Place::Section(section) = output.place else {
        return Ok(output.text.clone());
    };
    let begin = format!("<!-- BEGIN GENERATED (cargo xtask facts): {section} -->");
    let end = format!("<!-- END GENERATED: {section} -->");
    let missing = |marker: &str| format!("{} has no `{marker}` line", output.path);
    let start = current.find(&begin).ok_or_else(|| missing(&begin))? + begin.len();
    let stop = start + current[start..].find(&end).ok_or_else(|| missing(&end))?;
    // A blank line on each side, so Markdown reads the table as a table after the comment.
    Ok(format!(
        "{}\n\n{}\n{}",
        &current[..start],
        output.text,
        &current[stop..]
    ))
}

/// The outputs whose files differ from what the code says (`write`: rewrite them instead).
/// Returns the paths that were stale.
pub fn sync(root: &Path, write: bool) -> Result<Vec<&'static str>, String> {
    let mut stale = Vec::new();
    for output in outputs()? {
        let path = root.join(output.path);
        let current = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", output.path))?;
        let wanted = apply(&current, &output)?;
        if wanted != current {
            stale.push(output.path);
            if write {
                std::fs::write(&path, wanted)
                    .map_err(|e| format!("cannot write {}: {e}", output.path))?;
            }
        }
    }
    Ok(stale)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(text: &str) -> Output {
        Output {
            path: "docs/x.md",
            place: Place::Section("x"),
            text: text.to_owned(),
        }
    }

    #[test]
    fn only_the_text_between_the_markers_changes() {
        let file = "# X\n\nBefore.\n<!-- BEGIN GENERATED (cargo xtask facts): x -->\nold\n<!-- END GENERATED: x -->\nAfter.\n";
        let new = apply(file, &section("| a |\n")).unwrap();
        assert_eq!(
            new,
            "# X\n\nBefore.\n<!-- BEGIN GENERATED (cargo xtask facts): x -->\n\n| a |\n\n<!-- END GENERATED: x -->\nAfter.\n"
        );
        assert_eq!(apply(&new, &section("| a |\n")).unwrap(), new);
    }

    #[test]
    fn a_missing_marker_is_named() {
        let err = apply("# X\n<!-- END GENERATED: x -->\n", &section("t")).unwrap_err();
        assert!(
            err.contains("BEGIN GENERATED (cargo xtask facts): x"),
            "{err}"
        );
    }
}
