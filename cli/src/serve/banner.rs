//! What `imagegen serve` prints at start: where it listens (the `Listening on URL` line is the one
//! scripts read), the credentials to use, and commands to paste.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;

use imagegen_local::sqs::SqsService;
use imagegen_local_pipeline::LocalPipeline;
use imagegen_local_pipeline::settings::{DEAD_LETTER_QUEUE_NAME, QUEUE_NAME};

/// The start-up text; `console_login` is the console's login token, when it asks for one.
pub fn banner(
    endpoint: &str,
    bound: SocketAddr,
    pipeline: &LocalPipeline,
    data_dir: &Path,
    console_login: Option<&str>,
) -> String {
    let data = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let region = &pipeline.aws().options().region;
    let key = &pipeline.aws().options().key;
    let machine = pipeline.state_machine_arn();
    let bucket = pipeline.bucket();
    let prefix = pipeline.prompt_prefix();
    let topic = pipeline.topic_arn();
    let aws = format!("aws --endpoint-url {endpoint}");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "imagegen serve: the offline S3, Step Functions, SNS, SQS and HTTP API on one endpoint\n"
    );
    let _ = writeln!(out, "Listening on {endpoint}");
    let login = console_login
        .map(imagegen_console::login_query)
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "Console:        {endpoint}{}{login}  (open it in a browser)",
        imagegen_console::PREFIX
    );
    if !bound.ip().is_loopback() {
        let _ = writeln!(
            out,
            "  (bound to {bound}: reachable from other machines; requests must name it by IP \
             address, and anyone who can reach it and has the key below can use it)"
        );
    }
    let _ = writeln!(out, "Data directory: {}", data.display());
    let _ = writeln!(out, "State machine:  {machine}");
    let _ = writeln!(
        out,
        "Bucket:         s3://{bucket}  (uploads under {prefix} start the pipeline)"
    );
    let _ = writeln!(out, "Topic:          {topic}");
    let queue_url = SqsService::queue_url(endpoint, QUEUE_NAME);
    let _ = writeln!(
        out,
        "Queue:          {queue_url}  (dead letters: {})",
        SqsService::queue_url(endpoint, DEAD_LETTER_QUEUE_NAME)
    );
    let _ = writeln!(
        out,
        "HTTP API:       POST {endpoint}/generate-image, GET {endpoint}/images/{{requestId}}?wait=20  (SigV4, service execute-api)"
    );
    let whose = if console_login.is_some() {
        format!(
            "this data directory's secret key, kept in {}; any other key is refused",
            pipeline.aws().data_dir().remote_key_file().display()
        )
    } else {
        "the published local key; any other key is refused".to_owned()
    };
    let _ = writeln!(out, "\nCredentials ({whose}):");
    let _ = writeln!(out, "  export AWS_ACCESS_KEY_ID={}", key.id);
    let _ = writeln!(out, "  export AWS_SECRET_ACCESS_KEY={}", key.secret);
    let _ = writeln!(out, "  export AWS_DEFAULT_REGION={region}");
    let _ = writeln!(
        out,
        "  export AWS_DISABLE_HOST_PREFIX_INJECTION=true   # test-state: keeps the CLI off sync-<host>"
    );
    let _ = writeln!(out, "\nTry:");
    for line in [
        "echo 'a lighthouse at dusk' > prompt.txt".to_owned(),
        format!("{aws} s3 cp prompt.txt s3://{bucket}/{prefix}"),
        format!(
            "{aws} stepfunctions start-execution --state-machine-arn {machine} --input '{{\"prompt\":\"a lighthouse at dusk\"}}'"
        ),
        format!("{aws} stepfunctions list-executions --state-machine-arn {machine}"),
        format!("{aws} stepfunctions describe-execution --execution-arn <executionArn>"),
        format!("{aws} stepfunctions get-execution-history --execution-arn <executionArn>"),
        format!(
            "{aws} stepfunctions test-state --definition '{{\"Type\":\"Pass\",\"End\":true}}' --input '{{}}'"
        ),
        format!(
            "{aws} sns subscribe --topic-arn {topic} --protocol email --notification-endpoint you@example.com"
        ),
        format!("{aws} s3 ls s3://{bucket}/ --recursive"),
        format!(
            "{aws} sqs send-message --queue-url {queue_url} --message-body '{{\"prompt\":\"a lighthouse at dusk\"}}'"
        ),
        format!(
            "curl --aws-sigv4 aws:amz:{region}:execute-api --user \"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY\" -H 'Idempotency-Key: first-try' -d '{{\"prompt\":\"a lighthouse at dusk\"}}' {endpoint}/generate-image"
        ),
        format!(
            "curl --aws-sigv4 aws:amz:{region}:execute-api --user \"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY\" '{endpoint}/images/<requestId>?wait=20'"
        ),
    ] {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(
        out,
        "\nEmails land in {} (their links open while this runs). Ctrl-C stops.\n",
        data.join("outbox").display()
    );
    out
}
