//! The local S3's store beside the one it replaced, in one run: the same `s3s` front end (signature
//! checks, XML) over our store (`imagegen_local::s3`, records beside data, S3's semantics) and over
//! `s3s-fs` (the sample file-system store the twin used before), each served over loopback HTTP
//! in this process and driven by the same `aws_sdk_s3` clients.
//!
//! `cargo bench -p imagegen-cli --bench s3_store` (release) prints one line per measurement and
//! writes `bench/extra/s3-store.md`:
//! - PutObject and GetObject of 1 MiB objects, `S3_BENCH_CONCURRENCY` (4) clients at once,
//!   `S3_BENCH_REQUESTS` (400) of each;
//! - a bucket of `S3_BENCH_OBJECTS` (100,000) small objects (made by PutObject, timed too), then
//!   on a store opened afresh over the same directory on a new runtime (as after a restart: the
//!   first one's handles on its store are gone): the first page of ListObjectsV2 (1,000 keys),
//!   every page to the end following continuation tokens, and every page again.
//!
//! Under `cargo test --benches` it runs the same code on a tiny workload and writes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use hyper_util::rt::TokioIo;
use imagegen_local::config::{AccessKey, DEFAULT_REGION};
use s3s::service::S3Service;

mod common;

use common::{measuring, percentile, workload};

const BUCKET: &str = "bench";
const OBJECT_BYTES: usize = 1 << 20;

/// The two stores measured.
#[derive(Clone, Copy)]
enum Store {
    Ours,
    S3sFs,
}

impl Store {
    const BOTH: [Self; 2] = [Self::Ours, Self::S3sFs];

    fn name(self) -> &'static str {
        match self {
            Self::Ours => "imagegen-local store",
            Self::S3sFs => "s3s-fs",
        }
    }

    /// A fresh service over `root` (a new process's view of the directory).
    fn service(self, root: &Path) -> S3Service {
        let key = AccessKey::published();
        match self {
            Self::Ours => imagegen_local::s3::s3_service(root, &key).unwrap(),
            Self::S3sFs => {
                let fs = s3s_fs::FileSystem::new(root).unwrap();
                let mut builder = s3s::service::S3ServiceBuilder::new(fs);
                builder.set_auth(s3s::auth::SimpleAuth::from_single(key.id, key.secret));
                builder.build()
            }
        }
    }
}

/// Serve `service` on a free loopback port until the runtime ends; its endpoint.
async fn serve(service: S3Service) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let service = service.clone();
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    endpoint
}

fn client(endpoint: &str) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new(DEFAULT_REGION))
            .credentials_provider(AccessKey::published().credentials())
            .endpoint_url(endpoint)
            .force_path_style(true)
            .build(),
    )
}

/// `count` calls of `one(i)` from `concurrency` tasks; the whole time and each call's latency.
async fn load<F, Fut>(count: usize, concurrency: usize, one: F) -> (Duration, Vec<Duration>)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let one = Arc::new(one);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (one, next) = (Arc::clone(&one), Arc::clone(&next));
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= count {
                    return latencies;
                }
                let t = Instant::now();
                one(i).await;
                latencies.push(t.elapsed());
            }
        });
    }
    let mut all = Vec::with_capacity(count);
    while let Some(done) = tasks.join_next().await {
        all.extend(done.unwrap());
    }
    all.sort();
    (started.elapsed(), all)
}

/// One row of the table.
struct Row {
    measure: String,
    store: &'static str,
    per_second: f64,
    p50: Duration,
    p99: Duration,
    total: Duration,
    /// Why there is no figure: the measure did not finish.
    stopped: Option<String>,
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn row(measure: &str, store: Store, total: Duration, latencies: &[Duration]) -> Row {
    let r = Row {
        measure: measure.to_owned(),
        store: store.name(),
        per_second: latencies.len() as f64 / total.as_secs_f64(),
        p50: percentile(latencies, 50.0),
        p99: percentile(latencies, 99.0),
        total,
        stopped: None,
    };
    println!(
        "{:<44} {:<22} {:>9.0}/s  p50 {:>8} ms  p99 {:>8} ms  total {:>9} ms",
        r.measure,
        r.store,
        r.per_second,
        ms(r.p50),
        ms(r.p99),
        ms(r.total)
    );
    r
}

/// What paging through the bucket gave.
struct Listing {
    /// The first page's time, if it came within the limit.
    first: Option<Duration>,
    took: Duration,
    keys: usize,
    finished: bool,
}

/// Pages of ListObjectsV2 of 1,000 keys, following continuation tokens, until the end or until
/// `limit` has passed (a store that reads every object for every page may take hours).
async fn list_all(s3: &aws_sdk_s3::Client, limit: Duration) -> Listing {
    let started = Instant::now();
    let mut listing = Listing {
        first: None,
        took: Duration::ZERO,
        keys: 0,
        finished: false,
    };
    let mut token = None;
    loop {
        let left = limit.saturating_sub(started.elapsed());
        let request = s3
            .list_objects_v2()
            .bucket(BUCKET)
            .max_keys(1000)
            .set_continuation_token(token)
            .send();
        let Ok(page) = tokio::time::timeout(left, request).await else {
            listing.took = started.elapsed();
            return listing;
        };
        let page = page.unwrap();
        listing.first.get_or_insert(started.elapsed());
        listing.keys += page.contents().len();
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            listing.took = started.elapsed();
            listing.finished = true;
            return listing;
        }
    }
}

/// Puts and gets, then the bucket filled with `objects` small objects.
async fn fill(
    store: Store,
    dir: &Path,
    requests: usize,
    concurrency: usize,
    objects: usize,
) -> Vec<Row> {
    let endpoint = serve(store.service(dir)).await;
    let s3 = client(&endpoint);
    let mut rows = Vec::new();

    let body = Arc::new(vec![b'x'; OBJECT_BYTES]);
    let (s, b) = (s3.clone(), body.clone());
    let (total, latencies) = load(requests, concurrency, move |i| {
        let (s3, body) = (s.clone(), b.clone());
        async move {
            s3.put_object()
                .bucket(BUCKET)
                .key(format!("big/{i}"))
                .body(ByteStream::from(body.to_vec()))
                .send()
                .await
                .unwrap();
        }
    })
    .await;
    rows.push(row(
        &format!("PutObject 1 MiB, {concurrency} clients"),
        store,
        total,
        &latencies,
    ));
    let s = s3.clone();
    let (total, latencies) = load(requests, concurrency, move |i| {
        let s3 = s.clone();
        async move {
            let got = s3
                .get_object()
                .bucket(BUCKET)
                .key(format!("big/{i}"))
                .send()
                .await
                .unwrap();
            let bytes = got.body.collect().await.unwrap().into_bytes();
            assert_eq!(bytes.len(), OBJECT_BYTES);
        }
    })
    .await;
    rows.push(row(
        &format!("GetObject 1 MiB, {concurrency} clients"),
        store,
        total,
        &latencies,
    ));

    let s = s3.clone();
    let (total, latencies) = load(objects, concurrency, move |i| {
        let s3 = s.clone();
        async move {
            s3.put_object()
                .bucket(BUCKET)
                .key(format!("many/{i:07}"))
                .body(ByteStream::from_static(b"small"))
                .send()
                .await
                .unwrap();
        }
    })
    .await;
    rows.push(row(
        &format!("PutObject of {objects} small objects"),
        store,
        total,
        &latencies,
    ));

    rows
}

/// A row for a measure that did not finish.
fn stopped(measure: &str, store: Store, total: Duration, why: String) -> Row {
    println!("{measure:<44} {:<22} {why}", store.name());
    Row {
        measure: measure.to_owned(),
        store: store.name(),
        per_second: 0.0,
        p50: Duration::ZERO,
        p99: Duration::ZERO,
        total,
        stopped: Some(why),
    }
}

/// Every page of the bucket, through a service opened afresh over `dir` (as after a restart:
/// the runtime that served [`fill`] is gone, and with it every handle on its store).
async fn list_fresh(store: Store, dir: &Path, keys_put: usize, limit: Duration) -> Vec<Row> {
    let mut rows = Vec::new();
    let reopened = client(&serve(store.service(dir)).await);
    let pages = keys_put.div_ceil(1000);
    let measures = [
        format!("first ListObjectsV2 page of {keys_put} (fresh)"),
        format!("all {pages} pages of 1,000 (fresh)"),
        format!("all {pages} pages of 1,000, again"),
    ];
    let fresh = list_all(&reopened, limit).await;
    if fresh.finished {
        assert_eq!(fresh.keys, keys_put, "{} listed every key", store.name());
    }
    let cut = |what: &str| format!("stopped at the {} s limit ({what})", limit.as_secs());
    rows.push(match fresh.first {
        Some(first) => row(&measures[0], store, first, &[first]),
        None => stopped(&measures[0], store, limit, cut("no page came")),
    });
    if !fresh.finished {
        let what = format!("{} of {keys_put} keys listed", fresh.keys);
        rows.push(stopped(&measures[1], store, fresh.took, cut(&what)));
        rows.push(stopped(
            &measures[2],
            store,
            Duration::ZERO,
            "not run".to_owned(),
        ));
        return rows;
    }
    rows.push(row(&measures[1], store, fresh.took, &[fresh.took]));
    let again = list_all(&reopened, limit).await;
    rows.push(if again.finished {
        row(&measures[2], store, again.took, &[again.took])
    } else {
        stopped(&measures[2], store, again.took, cut("listing again"))
    });
    rows
}

/// Both phases of one store, each on a runtime of its own.
fn measure(
    store: Store,
    requests: usize,
    concurrency: usize,
    objects: usize,
    limit: Duration,
) -> Vec<Row> {
    let dir = std::env::temp_dir().join(format!(
        "imagegen-s3-store-bench-{}-{}",
        std::process::id(),
        store.name().replace(' ', "-")
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join(BUCKET)).unwrap();
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    // The first runtime ends with every task and every handle on its store (so the second one
    // opens the store afresh); the second is let go without waiting: a listing stopped at the
    // limit may still be walking the directory on a blocking thread.
    let mut rows = runtime().block_on(fill(store, &dir, requests, concurrency, objects));
    let listing = runtime();
    rows.extend(listing.block_on(list_fresh(store, &dir, objects + requests, limit)));
    listing.shutdown_background();
    let _ = std::fs::remove_dir_all(&dir);
    rows
}

fn main() {
    let requests = workload("S3_BENCH_REQUESTS", 400, 4);
    let concurrency = workload("S3_BENCH_CONCURRENCY", 4, 2);
    let objects = workload("S3_BENCH_OBJECTS", 100_000, 20);
    let limit = Duration::from_secs(workload("S3_BENCH_LIST_LIMIT_SECONDS", 60, 60) as u64);
    let mut rows = Vec::new();
    for store in Store::BOTH {
        rows.extend(measure(store, requests, concurrency, objects, limit));
    }
    if !measuring() {
        return;
    }
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut table = format!(
        "### The local S3's store beside s3s-fs\n\n\
         Release build, {cpus} CPU(s) shared by server and clients, one process: the same s3s front \
         end over each store, served on loopback HTTP/1.1, driven by `aws_sdk_s3` \
         (`cargo bench -p imagegen-cli --bench s3_store`). \"Fresh\": a new service over the same \
         directory, as after a restart, so our store loads the bucket's records once (one small \
         file per object) and s3s-fs walks the directory. A listing is stopped after {} s.\n\n\
         | measure | store | per second | p50 | p99 | total | ours / s3s-fs |\n\
         | --- | --- | --- | --- | --- | --- | --- |\n",
        limit.as_secs()
    );
    let half = rows.len() / 2;
    for (ours, theirs) in rows[..half].iter().zip(&rows[half..]) {
        // Throughput ratio for the loads, time ratio (lower is better) for the listings.
        let ratio = match (&ours.stopped, &theirs.stopped) {
            (Some(_), Some(_)) => "neither finished".to_owned(),
            (Some(_), None) => "ours did not finish".to_owned(),
            (None, Some(_)) => "s3s-fs did not finish".to_owned(),
            (None, None) if ours.measure.starts_with("Put") || ours.measure.starts_with("Get") => {
                format!("{:.2}x the throughput", ours.per_second / theirs.per_second)
            }
            (None, None) => format!(
                "{:.2}x the time",
                ours.total.as_secs_f64() / theirs.total.as_secs_f64()
            ),
        };
        for (r, note) in [(ours, ratio.as_str()), (theirs, "")] {
            let figures = match &r.stopped {
                Some(why) => format!("- | - | - | {why}"),
                None => format!(
                    "{:.0} | {} ms | {} ms | {} ms",
                    r.per_second,
                    ms(r.p50),
                    ms(r.p99),
                    ms(r.total)
                ),
            };
            table.push_str(&format!(
                "| {} | {} | {figures} | {note} |\n",
                r.measure, r.store
            ));
        }
        println!("s3_store: {}: ours {ratio}", ours.measure);
    }
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/extra/s3-store.md");
    std::fs::write(&out, table).unwrap();
    println!("wrote {}", out.display());
}
