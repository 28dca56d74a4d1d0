//! Issue 21 item 1: an upload `serve` acknowledged is never lost. Its S3 notification is recorded
//! before the 200, so neither `kill -9` right after the answers nor a crash before delivery loses
//! the execution; the next `serve` delivers what is left, and the idempotent execution names make a
//! second delivery "already started".

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use aws_sdk_sfn::types::ExecutionStatus;

use super::RUN;
use super::harness::{Served, TempDir, emails, executions, sdk_s3};

const BUCKET: &str = "imagegen-local";

/// Wait until every prompt `p{i}-...` in `acknowledged` has ended, then check: one execution per
/// prompt, none for another, one email each.
async fn every_prompt_ran_once(served: &Served, acknowledged: &[usize]) {
    let endpoint = served.endpoint.clone();
    let ended = |all: &BTreeMap<String, ExecutionStatus>| {
        all.len() >= acknowledged.len() && all.values().all(|s| *s != ExecutionStatus::Running)
    };
    let mut all = BTreeMap::new();
    let deadline = std::time::Instant::now() + RUN;
    while !ended(&all) || emails(&served.data).len() < all.len() {
        assert!(
            std::time::Instant::now() < deadline,
            "not every acknowledged upload ran and emailed: {all:?}\nemails: {:?}\nstderr:\n{}",
            emails(&served.data),
            served.stderr.lock().unwrap().join("\n")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        all = executions(&endpoint).await;
    }
    for i in acknowledged {
        let theirs: Vec<_> = all
            .keys()
            .filter(|n| n.starts_with(&format!("p{i}-")))
            .collect();
        assert_eq!(theirs.len(), 1, "prompt {i}: {theirs:?} of {all:?}");
    }
    assert_eq!(all.len(), acknowledged.len(), "{all:?}");
    let mail = emails(&served.data);
    for name in all.keys() {
        assert_eq!(mail.get(name), Some(&1), "{name}: {mail:?}");
    }
    assert_eq!(mail.len(), all.len(), "{mail:?}");
}

/// Nothing is left to deliver and no draft is left beside the records.
fn nothing_pending(data: &Path) {
    let left: Vec<_> = std::fs::read_dir(data.join("notifications"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn uploads_answered_before_a_kill_9_each_run_once_after_the_restart() {
    const UPLOADS: usize = 16;
    let dir = TempDir::new("kill-uploads");
    let data = dir.path().join("data");
    let mut served = Served::start(&data, &[], &[]);
    let s3 = sdk_s3(&served.endpoint);
    let mut uploads = tokio::task::JoinSet::new();
    for i in 0..UPLOADS {
        let s3 = s3.clone();
        uploads.spawn(async move {
            let sent = s3
                .put_object()
                .bucket(BUCKET)
                .key(format!("prompts/p{i}.txt"))
                .body(format!("a lighthouse, take {i}").into_bytes().into())
                .send()
                .await;
            sent.map(|_| i)
        });
    }
    let mut acknowledged = Vec::new();
    while let Some(done) = uploads.join_next().await {
        acknowledged.push(done.unwrap().expect("every upload is answered 200"));
    }
    // Right after the last 200: deliveries may be under way, executions surely are.
    served.kill();
    let pending = std::fs::read_dir(data.join("notifications"))
        .unwrap()
        .count();
    eprintln!("{pending} of {UPLOADS} notification record(s) left by the kill");

    let restarted = Served::start(&data, &[], &[]);
    acknowledged.sort_unstable();
    every_prompt_ran_once(&restarted, &acknowledged).await;
    nothing_pending(&data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_recorded_but_never_delivered_is_delivered_at_the_next_start() {
    // The moment a crash can strike: the upload was answered (object stored, notification
    // recorded) and the process died before the delivery task ran. Made here by hand, as the
    // process would have left it.
    let dir = TempDir::new("pending");
    let data = dir.path().join("data");
    let mut served = Served::start(&data, &[], &[]);
    served.kill();
    // The object through the stand-in's own client: no server, so no notification of its own.
    let aws = imagegen_local::LocalAws::open(&data).unwrap();
    aws.s3_client()
        .put_object()
        .bucket(BUCKET)
        .key("prompts/p0.txt")
        .body(b"a lighthouse at dusk".to_vec().into())
        .send()
        .await
        .unwrap();
    let recorded = imagegen_local::notifications::S3Notification {
        bucket: BUCKET.into(),
        key: "prompts/p0.txt".into(),
        created_by: imagegen_local::server::CreatedBy::Put,
        sequencer: "0000000000000000A1".into(),
        event_time: "2026-01-01T00:00:00Z".into(),
    };
    aws.notifications().record(&recorded).unwrap();
    // Delivered twice (a crash after start-execution took it and before its record was removed).
    aws.notifications().record(&recorded).unwrap();
    drop(aws);

    let restarted = Served::start(&data, &[], &[]);
    every_prompt_ran_once(&restarted, &[0]).await;
    nothing_pending(&data);
    let printed = restarted.printed();
    // Both records were delivered (the second found the first's execution, running or ended).
    let deliveries = printed
        .lines()
        .filter(|l| l.contains("s3://imagegen-local/prompts/p0.txt"))
        .count();
    assert_eq!(deliveries, 2, "{printed}");
    let all = executions(&restarted.endpoint).await;
    assert!(
        all.values().all(|s| *s == ExecutionStatus::Succeeded),
        "{all:?}"
    );
}

/// Issue 27: `kill -9` of `serve` while a PUT is replacing an object, at two moments (half the
/// body sent; the whole body sent, the answer not read), then a restart: the key holds the old
/// object or the new one, whole, and no partial file is left in the bucket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_cut_by_kill_9_leaves_the_old_object_or_the_new_one_whole() {
    use aws_sdk_s3::presigning::PresigningConfig;
    use tokio::io::AsyncWriteExt as _;
    const SIZE: usize = 8 << 20;
    let dir = TempDir::new("kill-put");
    let data = dir.path().join("data");
    let old = vec![b'o'; SIZE / 2];
    let new = vec![b'n'; SIZE];
    for (round, sent_of_body) in [(0, SIZE / 2), (1, SIZE)] {
        let key = format!("objects/k{round}.bin");
        let mut served = Served::start(&data, &[], &[]);
        let s3 = sdk_s3(&served.endpoint);
        s3.put_object()
            .bucket(BUCKET)
            .key(&key)
            .body(old.clone().into())
            .send()
            .await
            .unwrap();
        let link = s3
            .put_object()
            .bucket(BUCKET)
            .key(&key)
            .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).unwrap())
            .await
            .unwrap();
        let address = served.endpoint.trim_start_matches("http://").to_owned();
        let path = link.uri().trim_start_matches(&served.endpoint).to_owned();
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        let head =
            format!("PUT {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: {SIZE}\r\n\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&new[..sent_of_body]).await.unwrap();
        stream.flush().await.unwrap();
        // Let the server take in what was sent (it writes it aside as it arrives).
        tokio::time::sleep(Duration::from_millis(300)).await;
        served.kill();
        drop(stream);

        let restarted = Served::start(&data, &[], &[]);
        let got = sdk_s3(&restarted.endpoint)
            .get_object()
            .bucket(BUCKET)
            .key(&key)
            .send()
            .await
            .unwrap()
            .body
            .collect()
            .await
            .unwrap()
            .into_bytes();
        assert!(
            got[..] == old[..] || got[..] == new[..],
            "round {round}: {} bytes, neither the old object nor the new one",
            got.len()
        );
        if sent_of_body < SIZE {
            assert!(
                got[..] == old[..],
                "round {round}: half a body replaced the object"
            );
        }
        let mut leftovers = Vec::new();
        let mut dirs = vec![data.join("s3")];
        while let Some(d) = dirs.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let entry = entry.unwrap();
                if entry.file_type().unwrap().is_dir() {
                    dirs.push(entry.path());
                } else if entry.file_name().to_string_lossy().starts_with(".tmp-") {
                    leftovers.push(entry.path());
                }
            }
        }
        assert!(leftovers.is_empty(), "round {round}: {leftovers:?}");
        drop(restarted);
    }
}
