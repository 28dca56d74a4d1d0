//! The console's pages, each rendered from data already read (so that tests render them without a
//! server): `main` elements for [`super::html::page`].

pub mod execution;
pub mod list;
pub mod machine;
pub mod outbox;
pub mod start;

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use imagegen_core::types::StoredImage;
    use imagegen_local::OutboxMessage;
    use imagegen_local::sfn::{ExecutionRecord, Status};

    use super::*;
    use crate::graph::Graph;
    use imagegen_local_pipeline::results::Made;

    const HOSTILE: &str = r#"<img src=x onerror=alert(1)>"#;
    const SHOWN: &str = "&lt;img src=x onerror=alert(1)&gt;";

    fn record() -> ExecutionRecord {
        ExecutionRecord {
            name: "run-1".to_owned(),
            execution_arn: "arn:aws:states:us-east-1:0:execution:m:run-1".to_owned(),
            state_machine_arn: "arn:aws:states:us-east-1:0:stateMachine:m".to_owned(),
            status: Status::Failed,
            input: serde_json::json!({ "prompt": HOSTILE }).to_string(),
            output: None,
            error: Some(format!("Err{HOSTILE}")),
            cause: Some(format!(r#"{{"errorMessage":"bad {HOSTILE}"}}"#)),
            start_date: "2026-12-01T21:02:06.778Z".to_owned(),
            stop_date: Some("2026-12-01T21:02:07.000Z".to_owned()),
            history: Vec::new(),
            owner: None,
        }
    }

    fn message() -> OutboxMessage {
        OutboxMessage {
            message_id: "m-1".to_owned(),
            topic_arn: "arn:aws:sns:us-east-1:0:t".to_owned(),
            subject: Some(format!("could not make {HOSTILE}")),
            body: format!("Prompt: {HOSTILE}\nLink: http://127.0.0.1:1/b/k.png?a=1&b=<x>\n"),
            attributes: BTreeMap::from([("execution".to_owned(), format!("run-{HOSTILE}"))]),
            recipients: vec![format!("{HOSTILE}@example.com")],
            timestamp: "2026-12-01T21:02:07.000Z".to_owned(),
            eml_file: format!("{HOSTILE}.eml"),
        }
    }

    /// No tag of the hostile text survives, and the text itself is shown.
    fn assert_escaped(html: &str) {
        assert!(!html.contains("<img src=x"), "{html}");
        assert!(!html.contains("<x>"), "{html}");
        assert!(html.contains(SHOWN), "{html}");
    }

    #[test]
    fn user_text_is_escaped_on_every_page() {
        let record = record();
        let made = Made {
            bucket: "b".to_owned(),
            images: vec![StoredImage {
                bucket: "b".to_owned(),
                key: format!("images/{HOSTILE}/0.png"),
                width: 1,
                height: 1,
                bytes: 1,
                seed: 1,
            }],
            ..Made::default()
        };
        let links = BTreeMap::from([(
            made.images[0].key.clone(),
            format!("http://127.0.0.1:1/b/\"{HOSTILE}"),
        )]);
        let message = message();
        let graph = Graph::from_definition(imagegen_local_pipeline::pipeline::DEFINITION).unwrap();
        let execution = execution::render(&execution::View {
            record: &record,
            graph: Ok(&graph),
            made: &made,
            links: &links,
            email: Some(&message),
            csrf: "t",
        });
        assert_escaped(&execution);
        assert!(execution.contains(&format!("Err{SHOWN}")), "{execution}");
        assert!(execution.contains(&format!("bad {SHOWN}")), "{execution}");
        assert!(!execution.contains("\"<img"), "{execution}");

        let list = list::render(std::slice::from_ref(&record), None, 0);
        assert_escaped(&list);
        assert_escaped(&outbox::render(std::slice::from_ref(&message), HOSTILE));
        assert_escaped(&outbox::render_one(&message));
        let form = start::Form {
            input: Some(HOSTILE.to_owned()),
            json_error: Some(HOSTILE.to_owned()),
            name: HOSTILE.to_owned(),
            prompt: HOSTILE.to_owned(),
            ..start::Form::default()
        };
        assert_escaped(&start::render(&form, "t", "b", "prompts/"));
        let hostile_machine = format!(
            r#"{{"StartAt":"{0}","States":{{"{0}":{{"Type":"Succeed"}}}}}}"#,
            HOSTILE.replace('"', "\\\"")
        );
        let hostile_graph = Graph::from_definition(&hostile_machine).unwrap();
        assert_escaped(&machine::render(
            HOSTILE,
            HOSTILE,
            &hostile_machine,
            Ok(&hostile_graph),
        ));
        assert_escaped(&machine::render(HOSTILE, HOSTILE, "{}", Err(HOSTILE)));
    }
}
