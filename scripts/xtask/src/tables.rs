//! The Markdown tables the documentation shows, generated from the code: the configuration (one row
//! per variable in `imagegen_core::config::vars`) and the errors (one row per `ErrorName`).

use imagegen_core::ErrorName;

use crate::settings::Setting;

/// A table cell: pipes escaped, so text cannot end the cell early.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// `variable | functions | default | meaning`.
pub fn configuration(settings: &[Setting]) -> String {
    let mut table =
        String::from("| Variable | Functions | Default | Meaning |\n|---|---|---|---|\n");
    for s in settings {
        table.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            s.name,
            cell(&s.functions.join(", ")),
            cell(&s.default),
            cell(&s.meaning)
        ));
    }
    table
}

/// `error | meaning`.
pub fn errors() -> String {
    let mut table = String::from("| Error | Meaning |\n|---|---|\n");
    for name in ErrorName::ALL {
        table.push_str(&format!("| `{name}` | {} |\n", cell(&name.meaning())));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_escape_pipes_and_keep_the_order() {
        let settings = [Setting {
            name: "A",
            functions: vec!["f", "g"],
            default: "`x|y`".to_owned(),
            meaning: "An a.".to_owned(),
        }];
        assert_eq!(
            configuration(&settings),
            "| Variable | Functions | Default | Meaning |\n|---|---|---|---|\n\
             | `A` | f, g | `x\\|y` | An a. |\n"
        );
        let errors = errors();
        assert!(
            errors
                .lines()
                .nth(2)
                .unwrap()
                .starts_with("| `PromptRejected` | ")
        );
        assert_eq!(errors.lines().count(), 2 + ErrorName::ALL.len());
    }
}
