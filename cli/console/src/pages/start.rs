//! Start an execution: the JSON input box (prefilled with the console example, as the Step
//! Functions console's box is, and checked as JSON by the script before it is sent and by the
//! server after), a prompt with the common options, and a file drop that uploads a prompt file
//! under the prompt prefix so that its S3 notification starts the pipeline.

use std::fmt::Write as _;

use imagegen_core::model::{DEFAULT_MODEL_ID, KNOWN_MODELS};
use imagegen_core::types::CONSOLE_INPUT_EXAMPLE;

use crate::PREFIX;
use crate::guard::TOKEN_FIELD;
use crate::html::{esc, pretty_json};

/// Sizes offered (any `WIDTHxHEIGHT` can be typed).
const SIZES: [&str; 5] = ["1024x1024", "1344x768", "768x1344", "1216x832", "832x1216"];

/// What the forms show: empty for a new page, the submitted values and the problem after a
/// refusal.
#[derive(Debug, Clone, Default)]
pub struct Form {
    pub name: String,
    /// The JSON box; the example when `None`.
    pub input: Option<String>,
    pub json_error: Option<String>,
    pub prompt: String,
    pub size: String,
    pub seed: String,
    pub model: String,
    pub prompt_error: Option<String>,
}

/// The page's `main`.
pub fn render(form: &Form, csrf: &str, bucket: &str, prefix: &str) -> String {
    let token = format!(
        r#"<input type="hidden" name="{TOKEN_FIELD}" value="{}">"#,
        esc(csrf)
    );
    let input = form
        .input
        .clone()
        .unwrap_or_else(|| pretty_json(CONSOLE_INPUT_EXAMPLE));
    let mut out = String::from("<h1>Start execution</h1>");
    let _ = write!(
        out,
        r#"<section class="card"><h2>Input (JSON)</h2><form method="post" action="{PREFIX}start" id="json-form" novalidate>{token}<label>Name <span class="hint">(optional; a name is made when empty)</span><input name="name" value="{name}" maxlength="80" autocomplete="off"></label><label>Input<textarea name="input" id="json-input" rows="8" spellcheck="false">{input}</textarea></label><p class="error" id="json-error" role="alert">{error}</p><button>Start execution</button></form></section>"#,
        name = esc(&form.name),
        input = esc(&input),
        error = esc(form.json_error.as_deref().unwrap_or_default()),
    );
    let _ = write!(
        out,
        r#"<section class="card"><h2>Prompt</h2><form method="post" action="{PREFIX}start-prompt" id="prompt-form">{token}<label>Prompt<textarea name="prompt" id="prompt" rows="3">{prompt}</textarea></label><div class="row"><label>Size<input name="size" list="sizes" placeholder="model default" value="{size}" autocomplete="off"></label><datalist id="sizes">{sizes}</datalist><label>Seed<input name="seed" inputmode="numeric" placeholder="derived from the request" value="{seed}" autocomplete="off"></label><label>Model<select name="model">{models}</select></label></div><p class="error" role="alert">{error}</p><button>Start execution</button></form></section>"#,
        prompt = esc(&form.prompt),
        size = esc(&form.size),
        sizes = SIZES.iter().fold(String::new(), |mut s, size| {
            let _ = write!(s, r#"<option value="{size}">"#);
            s
        }),
        seed = esc(&form.seed),
        models = models(&form.model),
        error = esc(form.prompt_error.as_deref().unwrap_or_default()),
    );
    let _ = write!(
        out,
        r#"<section class="card"><h2>Upload a prompt file</h2><div id="drop" class="drop" data-action="{PREFIX}upload"><p>Drop a <code>.txt</code> or <code>.json</code> prompt file here, or <label class="file">choose one<input type="file" id="file" accept=".txt,.json,text/plain,application/json"></label></p><p class="hint">It is stored as <code>s3://{bucket}/{prefix}NAME</code>, and its S3 notification starts the pipeline, as on AWS.</p></div><p id="drop-status" role="status"></p><noscript><p class="note">Uploading here needs JavaScript; <code>aws s3 cp</code> to the endpoint does the same.</p></noscript></section>"#,
        bucket = esc(bucket),
        prefix = esc(prefix),
    );
    out
}

fn models(chosen: &str) -> String {
    let mut out = format!(
        r#"<option value="">the pipeline's default ({})</option>"#,
        esc(DEFAULT_MODEL_ID)
    );
    for model in KNOWN_MODELS {
        // "(legacy, end of life June 2026)", likewise retired; nothing for an active model.
        let legacy = match model.lifecycle.end_of_life() {
            None => String::new(),
            Some(end_of_life) => {
                format!(" ({}, end of life {end_of_life})", model.lifecycle.label())
            }
        };
        let selected = if model.id == chosen { " selected" } else { "" };
        let _ = write!(
            out,
            r#"<option value="{id}"{selected}>{name}{legacy}</option>"#,
            id = esc(model.id),
            name = esc(model.name),
        );
    }
    out
}
