//! The outbox: every email the local SNS sent, newest first, and one email on its own page.

use std::fmt::Write as _;

use imagegen_local::OutboxMessage;

use crate::PREFIX;
use crate::html::{esc, execution_url, linked_text, time, url_part};
use crate::pages::execution::recipients;

/// The list's `main`: `messages` oldest first, as the outbox keeps them.
pub fn render(messages: &[OutboxMessage], outbox_dir: &str) -> String {
    let mut out = format!(
        r#"<h1>Outbox</h1><p class="note">Every email the local SNS sent, newest first; each is also a <code>.eml</code> file in <code>{}</code>.</p>"#,
        esc(outbox_dir)
    );
    if messages.is_empty() {
        out.push_str(r#"<p class="empty">No emails yet.</p>"#);
        return out;
    }
    out.push_str(r#"<ol class="emails">"#);
    for message in messages.iter().rev() {
        let _ = write!(
            out,
            r#"<li class="card"><details><summary><span class="subject">{subject}</span><span class="meta">{when}{execution}</span></summary><p class="meta">To {to} · <a href="{PREFIX}outbox/{id}">Open</a></p><pre class="email-body">{body}</pre></details></li>"#,
            subject = esc(subject(message)),
            when = esc(&time(&message.timestamp)),
            execution = execution_note(message),
            to = esc(&recipients(message)),
            id = esc(&url_part(&message.message_id)),
            body = linked_text(&message.body),
        );
    }
    out.push_str("</ol>");
    out
}

/// One email's `main`.
pub fn render_one(message: &OutboxMessage) -> String {
    let execution = message
        .attributes
        .get("execution")
        .map(|name| {
            format!(
                r#"<div><dt>Execution</dt><dd><a href="{}">{}</a></dd></div>"#,
                esc(&execution_url(name, "")),
                esc(name)
            )
        })
        .unwrap_or_default();
    format!(
        r#"<h1 class="subject">{subject}</h1><dl class="facts"><div><dt>Sent</dt><dd>{when}</dd></div><div><dt>To</dt><dd>{to}</dd></div>{execution}<div><dt>File</dt><dd><code>{file}</code></dd></div></dl><pre class="email-body card">{body}</pre><p><a href="{PREFIX}outbox">All emails</a></p>"#,
        subject = esc(subject(message)),
        when = esc(&time(&message.timestamp)),
        to = esc(&recipients(message)),
        file = esc(&message.eml_file),
        body = linked_text(&message.body),
    )
}

fn subject(message: &OutboxMessage) -> &str {
    message.subject.as_deref().unwrap_or("(no subject)")
}

fn execution_note(message: &OutboxMessage) -> String {
    match message.attributes.get("execution") {
        Some(name) => format!(" · {}", esc(name)),
        None => String::new(),
    }
}
