//! A request for images, held to the same rules wherever it arrives: ValidatePrompt applies them to
//! an execution's input, and the front doors (the HTTP API, the queue) apply them to a request's body
//! before they start anything ([`check`]), so a request the pipeline would reject starts nothing.
//!
//! - `rules`: [`Rules`], the settings every request is held to.
//! - `options`: console JSON read into prompt options ([`options_from_value`]).
//! - `validate`: every problem with a request's options, in words a person understands ([`validate()`]).
//! - `text`: normalising prompt text and finding blocked terms in it.
//! - `blocklist_form`: the form text is compared in when matching the blocklist.
//! - `door`: a request's body at a front door ([`check`]).
//! - `id`: the request id that names every output key ([`request_id`]).

mod blocklist_form;
mod door;
mod id;
mod options;
mod rules;
mod text;
mod validate;

pub use door::{Accepted, Refused, check};
pub use id::request_id;
pub use options::options_from_value;
pub use rules::{DEFAULT_MAX_PROMPT_FILE_BYTES, MAX_PROMPT_FILE_BYTES_RANGE, Rules};
pub use validate::{Rejections, Validated, validate};
