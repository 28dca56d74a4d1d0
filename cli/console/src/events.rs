//! The console's server-sent event streams (`text/event-stream`).
//!
//! - The executions list hears `change` whenever an execution starts or ends (and when it fell
//!   behind, so it reloads the list either way).
//! - One execution's page hears `history` for each of its history events after the one the page
//!   was drawn with (the event's id is the SSE id, so a reconnecting `EventSource` resumes where it
//!   stopped, through `Last-Event-ID`), carrying the history table's row and the graph's changes,
//!   then `ended` once the execution's final record is saved, after which the stream closes.
//!
//! Every stream ends when the console closes (imagegen serve stopping), and sends a comment line
//! every few seconds so that a client that went away is noticed.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use imagegen_local::server::PageResponse;
use imagegen_local::sfn::{ExecutionRecord, SfnService, Status};
use imagegen_statemachine::{EventType, HistoryEvent};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{mpsc, watch};

use super::live::{LiveBus, LiveEvent};
use super::progress::{Progress, history_row};

/// How often an idle stream sends a comment.
const KEEP_ALIVE: Duration = Duration::from_secs(10);
/// What a browser waits before reconnecting a dropped stream, in milliseconds.
const RETRY_MILLIS: u32 = 1000;

/// One server-sent event (`data` is one line of JSON).
pub fn frame(event: &str, id: Option<&str>, data: &serde_json::Value) -> Bytes {
    let mut out = String::new();
    if let Some(id) = id {
        out.push_str(&format!("id: {id}\n"));
    }
    out.push_str(&format!("event: {event}\ndata: {data}\n\n"));
    Bytes::from(out)
}

fn stream(chunks: mpsc::Receiver<Bytes>) -> PageResponse {
    PageResponse::Stream {
        status: 200,
        headers: vec![
            (
                "content-type",
                "text/event-stream; charset=utf-8".to_owned(),
            ),
            ("cache-control", "no-store".to_owned()),
            ("x-content-type-options", "nosniff".to_owned()),
        ],
        chunks,
    }
}

/// Sends to the page; `false` once the page has gone.
struct Out(mpsc::Sender<Bytes>);

impl Out {
    async fn send(&self, bytes: Bytes) -> bool {
        self.0.send(bytes).await.is_ok()
    }
}

/// Whether the console has closed (or is gone).
async fn closed(closing: &mut watch::Receiver<bool>) {
    let _ = closing.wait_for(|c| *c).await;
}

/// The executions list's stream.
pub fn list_stream(live: &LiveBus, mut closing: watch::Receiver<bool>) -> PageResponse {
    let mut heard = live.subscribe();
    let (tx, chunks) = mpsc::channel(16);
    tokio::spawn(async move {
        let out = Out(tx);
        if !out
            .send(Bytes::from(format!("retry: {RETRY_MILLIS}\n\n")))
            .await
        {
            return;
        }
        loop {
            let change = tokio::select! {
                () = closed(&mut closing) => return,
                () = tokio::time::sleep(KEEP_ALIVE) => {
                    if !out.send(Bytes::from_static(b": keep-alive\n\n")).await {
                        return;
                    }
                    continue;
                }
                heard = heard.recv() => match heard {
                    Ok(LiveEvent::History { execution, event }) if event.event_type == EventType::ExecutionStarted => {
                        json!({"execution": execution, "status": Status::Running.as_str()})
                    }
                    Ok(LiveEvent::Ended { execution, status }) => json!({"execution": execution, "status": status}),
                    Ok(LiveEvent::History { .. }) => continue,
                    Err(RecvError::Lagged(_)) => json!({}),
                    Err(RecvError::Closed) => return,
                },
            };
            if !out.send(frame("change", None, &change)).await {
                return;
            }
        }
    });
    stream(chunks)
}

/// One execution's stream, from after history event `after`.
pub fn execution_stream(
    sfn: Arc<SfnService>,
    live: &LiveBus,
    mut closing: watch::Receiver<bool>,
    name: String,
    after: u64,
) -> PageResponse {
    // Subscribed before the record is read: nothing recorded in between is missed.
    let mut heard = live.subscribe();
    let (tx, chunks) = mpsc::channel(64);
    tokio::spawn(async move {
        let out = Out(tx);
        if !out
            .send(Bytes::from(format!("retry: {RETRY_MILLIS}\n\n")))
            .await
        {
            return;
        }
        let mut follower = Follower {
            progress: Progress::default(),
            seen: 0,
            after,
            started: String::new(),
        };
        match follower.catch_up(&sfn, &name, &out).await {
            CatchUp::Going => {}
            CatchUp::Done => return,
        }
        loop {
            tokio::select! {
                () = closed(&mut closing) => return,
                () = tokio::time::sleep(KEEP_ALIVE) => {
                    if !out.send(Bytes::from_static(b": keep-alive\n\n")).await {
                        return;
                    }
                }
                heard = heard.recv() => match heard {
                    Ok(event) if event.execution() != name => {}
                    Ok(LiveEvent::History { event, .. }) => {
                        if !follower.send(&event, &out).await {
                            return;
                        }
                    }
                    Ok(LiveEvent::Ended { status, .. }) => {
                        let _ = out.send(frame("ended", Some("end"), &json!({"status": status}))).await;
                        return;
                    }
                    Err(RecvError::Lagged(_)) => match follower.catch_up(&sfn, &name, &out).await {
                        CatchUp::Going => {}
                        CatchUp::Done => return,
                    },
                    Err(RecvError::Closed) => return,
                },
            }
        }
    });
    stream(chunks)
}

enum CatchUp {
    Going,
    Done,
}

/// Where one page's stream is in an execution's history.
struct Follower {
    /// The fold over every event up to `seen` (the graph's colours need the whole history).
    progress: Progress,
    /// The last event id folded.
    seen: u64,
    /// The page already shows the events up to this id.
    after: u64,
    started: String,
}

impl Follower {
    /// Fold `event` (if new) and send it (if the page lacks it); `false` once the page has gone.
    async fn send(&mut self, event: &HistoryEvent, out: &Out) -> bool {
        if event.id <= self.seen {
            return true;
        }
        if self.started.is_empty() {
            self.started = event.timestamp.clone();
        }
        self.seen = event.id;
        let changes = self.progress.apply(event);
        if event.id <= self.after {
            return true;
        }
        let data = json!({"row": history_row(event, &self.started), "changes": changes});
        out.send(frame("history", Some(&event.id.to_string()), &data))
            .await
    }

    /// Read the record and send what the page lacks; done when the execution has ended (or does
    /// not exist, or the page has gone).
    async fn catch_up(&mut self, sfn: &SfnService, name: &str, out: &Out) -> CatchUp {
        let record: ExecutionRecord = match sfn.execution(name) {
            Ok(Some(record)) => record,
            _ => {
                let _ = out
                    .send(frame("ended", Some("end"), &json!({"status": "UNKNOWN"})))
                    .await;
                return CatchUp::Done;
            }
        };
        for event in &record.history {
            if !self.send(event, out).await {
                return CatchUp::Done;
            }
        }
        if record.status == Status::Running {
            return CatchUp::Going;
        }
        let _ = out
            .send(frame(
                "ended",
                Some("end"),
                &json!({"status": record.status.as_str()}),
            ))
            .await;
        CatchUp::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_one_event_each() {
        let f = frame("history", Some("7"), &json!({"row": ["7", "<x>\n"]}));
        assert_eq!(
            std::str::from_utf8(&f).unwrap(),
            "id: 7\nevent: history\ndata: {\"row\":[\"7\",\"<x>\\n\"]}\n\n"
        );
    }
}
