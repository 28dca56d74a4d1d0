//! One execution: its facts, error and cause, the graph coloured by its history, the images and
//! thumbnails it made (shown through presigned links to the local S3), its email, its input and
//! output, and the history table. While it runs, the script follows its event stream.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use imagegen_core::error::cause_message;
use imagegen_core::thumbnail_format::ThumbnailFormat;
use imagegen_core::types::StoredThumbnail;
use imagegen_local::OutboxMessage;
use imagegen_local::sfn::{ExecutionRecord, Status};

use crate::PREFIX;
use crate::graph::Graph;
use crate::guard::TOKEN_FIELD;
use crate::html::{badge, duration, esc, execution_url, linked_text, pretty_json, time, url_part};
use crate::progress::{Progress, history_row};
use crate::svg;
use imagegen_local_pipeline::results::Made;

/// What the page shows, read beforehand.
#[derive(Debug)]
pub struct View<'a> {
    pub record: &'a ExecutionRecord,
    /// The state machine's graph, or why it could not be drawn.
    pub graph: Result<&'a Graph, &'a str>,
    pub made: &'a Made,
    /// Presigned GET URLs by object key (through the local S3 endpoint).
    pub links: &'a BTreeMap<String, String>,
    pub email: Option<&'a OutboxMessage>,
    pub csrf: &'a str,
}

/// The page's `main`.
pub fn render(view: &View<'_>) -> String {
    let record = view.record;
    let running = record.status == Status::Running;
    let last = record.history.last().map_or(0, |e| e.id);
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<div id="execution" data-live="{running}" data-after="{last}" data-events="{events}">"#,
        events = esc(&execution_url(&record.name, "/events")),
    );
    summary(&mut out, view);
    failure(&mut out, record);
    let progress = Progress::of(&record.history);
    out.push_str(
        r#"<div class="columns"><section class="card"><h2>Graph</h2><div class="graph-wrap">"#,
    );
    match &view.graph {
        Ok(graph) => out.push_str(&svg::render(graph, progress.statuses())),
        Err(why) => {
            let _ = write!(
                out,
                r#"<p class="error">The graph cannot be drawn: {}</p>"#,
                esc(why)
            );
        }
    }
    out.push_str("</div>");
    out.push_str(&svg::legend());
    out.push_str("</section><div>");
    images(&mut out, view);
    email(&mut out, view.email, running);
    out.push_str("</div></div>");
    input_output(&mut out, record);
    history(&mut out, record);
    out.push_str("</div>");
    out
}

fn summary(out: &mut String, view: &View<'_>) {
    let record = view.record;
    let _ = write!(
        out,
        r#"<div class="title-row"><h1>Execution <span class="name">{}</span></h1>"#,
        esc(&record.name)
    );
    if record.status == Status::Running {
        let _ = write!(
            out,
            r#"<form method="post" action="{action}" class="inline"><input type="hidden" name="{TOKEN_FIELD}" value="{csrf}"><button class="secondary">Stop execution</button></form>"#,
            action = esc(&execution_url(&record.name, "/stop")),
            csrf = esc(view.csrf),
        );
    }
    out.push_str("</div>");
    let took = record.duration_seconds().map(duration).unwrap_or_default();
    // While it runs, the page's script counts on from the start date (`data-since`), so the time
    // grows while the reader watches; the end brings the page part with the recorded duration.
    let (took_label, ticking) = match (
        &record.stop_date,
        ExecutionRecord::epoch_seconds(&record.start_date),
    ) {
        (None, Some(since)) => (
            "Running for",
            format!(
                r#" id="running-for" data-since="{}""#,
                (since * 1000.0).round()
            ),
        ),
        (None, None) => ("Running for", String::new()),
        (Some(_), _) => ("Duration", String::new()),
    };
    let _ = write!(
        out,
        r#"<dl class="facts"><div><dt>Status</dt><dd id="status">{status}</dd></div><div><dt>Started</dt><dd>{started}</dd></div><div><dt>{took_label}</dt><dd{ticking}>{took}</dd></div><div class="wide"><dt>Execution ARN</dt><dd><code>{arn}</code></dd></div></dl>"#,
        status = badge(record.status.as_str()),
        started = esc(&time(&record.start_date)),
        took = esc(&took),
        arn = esc(&record.execution_arn),
    );
    for warning in &view.made.warnings {
        let _ = write!(out, r#"<p class="note">{}</p>"#, esc(warning));
    }
}

fn failure(out: &mut String, record: &ExecutionRecord) {
    if record.error.is_none() && record.cause.is_none() {
        return;
    }
    out.push_str(r#"<section class="card failure" id="failure"><h2>Error</h2>"#);
    if let Some(error) = &record.error {
        let _ = write!(
            out,
            r#"<p class="error-name"><code>{}</code></p>"#,
            esc(error)
        );
    }
    if let Some(cause) = &record.cause {
        let _ = write!(
            out,
            r#"<p class="cause">{}</p><details><summary>Cause as recorded</summary><pre>{}</pre></details>"#,
            esc(&cause_message(cause)),
            esc(&pretty_json(cause))
        );
    }
    out.push_str("</section>");
}

/// `s3://bucket/key`, linked through the local endpoint when there is a link.
fn s3_link(view: &View<'_>, key: &str) -> String {
    let text = esc(&format!("s3://{}/{key}", view.made.bucket));
    match view.links.get(key) {
        Some(url) => format!(r#"<a href="{}">{text}</a>"#, esc(url)),
        None => text,
    }
}

fn images(out: &mut String, view: &View<'_>) {
    let made = view.made;
    if made.images.is_empty() {
        return;
    }
    out.push_str(r#"<section class="card" id="images"><h2>Images</h2>"#);
    for (n, image) in made.images.iter().enumerate() {
        out.push_str(r#"<figure class="image">"#);
        if let Some(url) = view.links.get(&image.key) {
            let _ = write!(
                out,
                r#"<a href="{url}"><img class="full" src="{url}" width="{w}" height="{h}" alt="Image {n}"></a>"#,
                url = esc(url),
                w = image.width,
                h = image.height,
                n = n + 1,
            );
        }
        let _ = write!(
            out,
            "<figcaption>{}x{}, seed {}, {} KB<br>{}</figcaption>",
            image.width,
            image.height,
            image.seed,
            image.bytes.div_ceil(1024),
            s3_link(view, &image.key)
        );
        out.push_str(r#"<div class="thumbs">"#);
        let thumbs: Vec<&StoredThumbnail> = made
            .thumbnails
            .iter()
            .filter(|t| t.source_key == image.key)
            .collect();
        for size in sizes(&thumbs) {
            let formats: Vec<&StoredThumbnail> =
                thumbs.iter().copied().filter(|t| t.size == size).collect();
            thumbnail(out, view, &formats, n + 1);
        }
        out.push_str("</div></figure>");
    }
    if let Some(manifest) = &made.manifest {
        let _ = write!(out, "<p>Manifest: {}</p>", s3_link(view, manifest));
    }
    out.push_str("</section>");
}

/// The thumbnail sizes in the order they were made, each once.
fn sizes(thumbs: &[&StoredThumbnail]) -> Vec<u32> {
    let mut sizes = Vec::new();
    for thumb in thumbs {
        if !sizes.contains(&thumb.size) {
            sizes.push(thumb.size);
        }
    }
    sizes
}

/// One thumbnail size in every format it was made in, as a web page serves it: a `<picture>` whose
/// sources the browser picks from in order (AVIF, WebP, ...), over an `<img>` of the format every
/// browser shows (JPEG or PNG when there is one), and a caption line per format with its bytes and
/// object.
fn thumbnail(out: &mut String, view: &View<'_>, formats: &[&StoredThumbnail], n: usize) {
    let format = |t: &StoredThumbnail| t.format.parse::<ThumbnailFormat>().ok();
    let Some(&fallback) = formats
        .iter()
        .find(|t| format(t).is_some_and(ThumbnailFormat::every_browser_shows))
        .or(formats.last())
    else {
        return;
    };
    out.push_str("<figure><picture>");
    for thumb in formats.iter().filter(|t| t.key != fallback.key) {
        // A format this build does not know (a newer function's manifest) is listed, not offered.
        if let (Some(url), Some(format)) = (view.links.get(&thumb.key), format(thumb)) {
            let _ = write!(
                out,
                r#"<source type="{content_type}" srcset="{url}" width="{w}" height="{h}">"#,
                content_type = format.content_type(),
                url = esc(url),
                w = thumb.width,
                h = thumb.height,
            );
        }
    }
    if let Some(url) = view.links.get(&fallback.key) {
        let _ = write!(
            out,
            r#"<img class="thumb" src="{url}" width="{w}" height="{h}" alt="Thumbnail {size} px of image {n}">"#,
            url = esc(url),
            w = fallback.width,
            h = fallback.height,
            size = fallback.size,
        );
    }
    let _ = write!(
        out,
        "</picture><figcaption>{} px ({}x{})",
        fallback.size, fallback.width, fallback.height
    );
    for thumb in formats {
        let _ = write!(
            out,
            r#"<br><span class="format">{} {} KB</span> {}"#,
            esc(&thumb.format),
            thumb.bytes.div_ceil(1024),
            s3_link(view, &thumb.key)
        );
    }
    out.push_str("</figcaption></figure>");
}

fn email(out: &mut String, message: Option<&OutboxMessage>, running: bool) {
    out.push_str(r#"<section class="card" id="email"><h2>Email</h2>"#);
    match message {
        Some(m) => {
            let _ = write!(
                out,
                r#"<p class="subject">{subject}</p><p class="meta">{when} · to {to} · <a class="open-email" href="{PREFIX}outbox/{id}">Open the email</a></p><pre class="email-body">{body}</pre>"#,
                subject = esc(m.subject.as_deref().unwrap_or("(no subject)")),
                when = esc(&time(&m.timestamp)),
                to = esc(&recipients(m)),
                id = esc(&url_part(&m.message_id)),
                body = linked_text(&m.body),
            );
        }
        None if running => out.push_str("<p>Not sent yet: the email goes out at the end.</p>"),
        None => out.push_str(r#"<p class="error">No email was sent for this execution.</p>"#),
    }
    out.push_str("</section>");
}

/// Who an email went to, for people.
pub fn recipients(message: &OutboxMessage) -> String {
    if message.recipients.is_empty() {
        format!("the topic {} (no subscribers)", message.topic_arn)
    } else {
        message.recipients.join(", ")
    }
}

fn input_output(out: &mut String, record: &ExecutionRecord) {
    let _ = write!(
        out,
        r#"<section class="card io"><div><h2>Input</h2><pre>{}</pre></div>"#,
        esc(&pretty_json(&record.input))
    );
    if let Some(output) = &record.output {
        let _ = write!(
            out,
            "<div><h2>Output</h2><pre>{}</pre></div>",
            esc(&pretty_json(output))
        );
    }
    out.push_str("</section>");
}

fn history(out: &mut String, record: &ExecutionRecord) {
    out.push_str(
        "<section class=\"card\"><h2>Events</h2><div class=\"table-wrap\"><table class=\"history\">\
         <thead><tr><th>ID</th><th>Type</th><th>Step</th><th>Elapsed (ms)</th><th>Detail</th></tr>\
         </thead><tbody id=\"history\">",
    );
    let started = record
        .history
        .first()
        .map_or(record.start_date.as_str(), |e| e.timestamp.as_str());
    for event in &record.history {
        out.push_str("<tr>");
        for cell in history_row(event, started) {
            let _ = write!(out, "<td>{}</td>", esc(&cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div></section>");
}
