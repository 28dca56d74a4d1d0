//! The S3 key layout, and which uploads are prompt files. Outputs never land under the prompt
//! prefix, so they cannot trigger the pipeline.

use crate::types::OutputFormat;

/// Where prompt files are uploaded (the default of `PROMPT_PREFIX`).
pub const PROMPT_PREFIX: &str = "prompts/";

/// What a prompt file holds, by its extension (any case): `.txt` is the prompt itself, `.json` the
/// console input's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptFormat {
    Text,
    Json,
}

impl PromptFormat {
    /// Every format, for listings ("`.txt` or `.json`").
    pub const ALL: [Self; 2] = [Self::Text, Self::Json];

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Text => "txt",
            Self::Json => "json",
        }
    }

    /// The `Content-Type` a prompt file of this format is stored with.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Text => "text/plain; charset=utf-8",
            Self::Json => "application/json",
        }
    }

    /// The `Content-Type` a file of this name is uploaded with: a prompt file's, else S3's
    /// default for bytes. (A key that is not a prompt file is stored all the same; what it starts,
    /// nothing, is start-execution's to say.)
    pub fn upload_content_type(name: &str) -> &'static str {
        Self::of(name).map_or("application/octet-stream", Self::content_type)
    }

    /// The format of a file name or key, from its extension; `None` for anything else, including
    /// a bare `.txt` with no name before the dot and a key that ends in `/`.
    pub fn of(name: &str) -> Option<Self> {
        let file_name = name.rsplit('/').next().unwrap_or(name);
        let (stem, extension) = file_name.rsplit_once('.')?;
        if stem.is_empty() {
            return None;
        }
        Self::ALL
            .into_iter()
            .find(|f| extension.eq_ignore_ascii_case(f.extension()))
    }
}

/// The prompt files' extensions in words, for messages.
pub const PROMPT_FILE_RULE: &str = ".txt or .json";

/// `Ok(format)` when `key` (decoded) is a prompt file under `prefix`; otherwise why it is not.
pub fn prompt_file(key: &str, prefix: &str) -> Result<PromptFormat, String> {
    if !key.starts_with(prefix) {
        return Err(format!("not under {prefix}"));
    }
    PromptFormat::of(key).ok_or_else(|| format!("not a {PROMPT_FILE_RULE} prompt file"))
}

/// Where the generated images go.
pub const IMAGES_PREFIX: &str = "images/";
/// Where the thumbnails go.
pub const THUMBNAILS_PREFIX: &str = "thumbnails/";
/// Where the result manifests go.
pub const RESULTS_PREFIX: &str = "results/";

/// Whether `id` can name a request's outputs: 1 to [`REQUEST_ID_MAX`] characters of `[A-Za-z0-9_-]`,
/// so no id can climb out of its prefix (`..`, `/`) or reach another request's keys.
pub fn is_request_id(id: &str) -> bool {
    (1..=REQUEST_ID_MAX).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The longest request id (a readable part of at most 80 characters, `-` and a hash).
pub const REQUEST_ID_MAX: usize = 128;

/// `images/{requestId}/` — the generated images.
pub fn image_prefix(request_id: &str) -> String {
    format!("{IMAGES_PREFIX}{request_id}/")
}

/// `images/{requestId}/{n}.png`, or `.jpg` for a JPEG.
pub fn image_key(request_id: &str, index: usize, format: OutputFormat) -> String {
    format!("{}{index}.{}", image_prefix(request_id), format.extension())
}

/// `thumbnails/{requestId}/`
pub fn thumbnail_prefix(request_id: &str) -> String {
    format!("{THUMBNAILS_PREFIX}{request_id}/")
}

/// `thumbnails/{requestId}/{n}-{size}.{ext}`
pub fn thumbnail_key(request_id: &str, index: usize, size: u32, extension: &str) -> String {
    format!("{}{index}-{size}.{extension}", thumbnail_prefix(request_id))
}

/// Where the one-email-per-execution records live (see [`notification_key`]).
pub const NOTIFICATIONS_PREFIX: &str = "notifications/";

/// `notifications/{executionName}.json` — the record that an execution's email was claimed (and
/// sent). Whoever creates it first (S3 `If-None-Match: *`) sends the email: notify-user, or the
/// backstop for executions that ended without one. Outside `prompts/`, so it never starts a run.
pub fn notification_key(execution_name: &str) -> String {
    format!("{NOTIFICATIONS_PREFIX}{execution_name}.json")
}

/// `results/{requestId}.json` — the manifest of what was made.
pub fn manifest_key(request_id: &str) -> String {
    format!("{RESULTS_PREFIX}{request_id}.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_files() {
        let p = "prompts/";
        assert_eq!(prompt_file("prompts/a.txt", p), Ok(PromptFormat::Text));
        assert_eq!(
            prompt_file("prompts/sub/dir/a.JSON", p),
            Ok(PromptFormat::Json)
        );
        assert_eq!(
            prompt_file("prompts/café ☕.Txt", p),
            Ok(PromptFormat::Text)
        );
        assert_eq!(
            prompt_file("other/a.txt", p).unwrap_err(),
            "not under prompts/"
        );
        for bad in [
            "prompts/readme.md",
            "prompts/",
            "prompts/.txt",
            "prompts/txt",
            "prompts/a.txt/",
            "prompts/a.txt.bak",
        ] {
            assert!(
                prompt_file(bad, p).unwrap_err().contains(PROMPT_FILE_RULE),
                "{bad}"
            );
        }
        let listed: Vec<_> = PromptFormat::ALL.iter().map(|f| f.extension()).collect();
        assert_eq!(
            PROMPT_FILE_RULE,
            format!(".{} or .{}", listed[0], listed[1])
        );
    }

    #[test]
    fn request_ids() {
        for good in ["r1", "run1-0123456789abcdef", "A_b-C"] {
            assert!(is_request_id(good), "{good}");
        }
        let too_long = "x".repeat(REQUEST_ID_MAX + 1);
        for bad in ["", "a/b", "..", "a.b", "a b", "日本", too_long.as_str()] {
            assert!(!is_request_id(bad), "{bad}");
        }
    }

    #[test]
    fn layout() {
        assert_eq!(image_key("r1", 0, OutputFormat::Png), "images/r1/0.png");
        assert_eq!(image_key("r1", 1, OutputFormat::Jpeg), "images/r1/1.jpg");
        assert_eq!(
            thumbnail_key("r1", 2, 256, "jpg"),
            "thumbnails/r1/2-256.jpg"
        );
        assert_eq!(manifest_key("r1"), "results/r1.json");
        assert_eq!(notification_key("run-1"), "notifications/run-1.json");
        for key in [
            image_key("r", 0, OutputFormat::Png),
            thumbnail_key("r", 0, 1, "png"),
            manifest_key("r"),
            notification_key("r"),
        ] {
            assert!(!key.starts_with(PROMPT_PREFIX));
        }
    }
}
