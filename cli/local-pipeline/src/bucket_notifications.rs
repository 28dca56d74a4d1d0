//! S3 event notifications under `serve`: what the CDK app wires on AWS (bucket notifications for
//! `ObjectCreated:*` with the prompt prefix and each prompt-file suffix, to the start-execution
//! function), done locally. S3 filters by prefix and suffix (case-sensitive) before it delivers;
//! start-execution applies its own rule again.

use std::sync::Arc;

use imagegen_core::keys::PromptFormat;
use imagegen_local::server::{ObjectCreated, OnObjectCreated};

use crate::pipeline::LocalPipeline;

/// Whether the bucket's notification configuration matches `key`: under `prefix`, ending in
/// `.txt` or `.json` exactly (S3's suffix filter compares case-sensitively).
pub fn matches(prefix: &str, key: &str) -> bool {
    key.starts_with(prefix)
        && PromptFormat::ALL
            .iter()
            .any(|f| key.ends_with(&format!(".{}", f.extension())))
}

/// The hook the S3 route calls after each object it creates: a matching object's notification is
/// delivered to the start-execution handler on a task of its own (S3 delivers asynchronously, after
/// answering the upload), and a failed delivery is logged.
pub fn hook(pipeline: Arc<LocalPipeline>) -> OnObjectCreated {
    let runtime = tokio::runtime::Handle::current();
    Arc::new(move |created: ObjectCreated| {
        if created.bucket != pipeline.bucket() || !matches(pipeline.prompt_prefix(), &created.key) {
            return;
        }
        let pipeline = Arc::clone(&pipeline);
        runtime.spawn(async move { deliver(&pipeline, created).await });
    })
}

async fn deliver(pipeline: &LocalPipeline, created: ObjectCreated) {
    let shown = format!(
        "s3://{}/{}",
        created.bucket,
        imagegen_core::display::escape_controls(&created.key)
    );
    let event = match pipeline
        .notification(&created.bucket, &created.key, created.created_by)
        .await
    {
        Ok(event) => event,
        Err(e) => {
            eprintln!("! {shown}: the S3 notification could not be made: {e}");
            return;
        }
    };
    match pipeline.deliver(event).await {
        Ok(summary) => {
            for started in &summary.started {
                println!(
                    "  {shown} ({}) -> {}",
                    created.created_by.event_name(),
                    started.execution_name
                );
            }
            for duplicate in &summary.duplicates {
                println!("  {shown}: already started as {}", duplicate.execution_name);
            }
            for skipped in &summary.skipped {
                println!("  {shown}: not started: {}", skipped.reason);
            }
        }
        Err(e) => eprintln!("! {shown}: start-execution failed: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notification_filter_is_the_cdk_apps() {
        assert!(matches("prompts/", "prompts/a.txt"));
        assert!(matches("prompts/", "prompts/deep/a b.json"));
        assert!(!matches("prompts/", "images/a.txt"));
        assert!(!matches("prompts/", "prompts/a.TXT"));
        assert!(!matches("prompts/", "prompts/a.png"));
    }
}
