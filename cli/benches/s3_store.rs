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

/// Every page of ListObjectsV2 of 1,000 keys: the first page's time, all pages' time, keys seen.
async fn list_all(s3: &aws_sdk_s3::Client) -> (Duration, Duration, usize) {
    let started = Instant::now();
    let mut first = None;
    let mut token = None;
    let mut keys = 0;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(BUCKET)
            .max_keys(1000)
            .set_continuation_token(token)
            .send()
            .await
            .unwrap();
        first.get_or_insert(started.elapsed());
        keys += page.contents().len();
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            return (first.unwrap(), started.elapsed(), keys);
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

/// Every page of the bucket, through a service opened afresh over `dir` (as after a restart:
/// the runtime that served [`fill`] is gone, and with it every handle on its store).
async fn list_fresh(store: Store, dir: &Path, keys_put: usize) -> Vec<Row> {
    let mut rows = Vec::new();
    let reopened = client(&serve(store.service(dir)).await);
    let (first, all, keys) = list_all(&reopened).await;
    assert_eq!(keys, keys_put, "{} listed every key", store.name());
    rows.push(row(
        &format!("first ListObjectsV2 page of {keys} (fresh)"),
        store,
        first,
        &[first],
    ));
    let pages = keys.div_ceil(1000);
    rows.push(row(
        &format!("all {pages} pages of 1,000 (fresh)"),
        store,
        all,
        &[all],
    ));
    let (_, again, _) = list_all(&reopened).await;
    rows.push(row(
        &format!("all {pages} pages of 1,000, again"),
        store,
        again,
        &[again],
    ));
    rows
}

/// Both phases of one store, each on a runtime of its own.
fn measure(store: Store, requests: usize, concurrency: usize, objects: usize) -> Vec<Row> {
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
    let mut rows = runtime().block_on(fill(store, &dir, requests, concurrency, objects));
    rows.extend(runtime().block_on(list_fresh(store, &dir, objects + requests)));
    let _ = std::fs::remove_dir_all(&dir);
    rows
}

fn main() {
    let requests = workload("S3_BENCH_REQUESTS", 400, 4);
    let concurrency = workload("S3_BENCH_CONCURRENCY", 4, 2);
    let objects = workload("S3_BENCH_OBJECTS", 100_000, 20);
    let mut rows = Vec::new();
    for store in Store::BOTH {
        rows.extend(measure(store, requests, concurrency, objects));
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
         file per object) and s3s-fs walks the directory.\n\n\
         | measure | store | per second | p50 | p99 | total | ours / s3s-fs |\n\
         | --- | --- | --- | --- | --- | --- | --- |\n"
    );
    let half = rows.len() / 2;
    for (ours, theirs) in rows[..half].iter().zip(&rows[half..]) {
        // Throughput ratio for the loads, time ratio (lower is better) for the listings.
        let ratio = if ours.measure.starts_with("Put") || ours.measure.starts_with("Get") {
            format!("{:.2}x the throughput", ours.per_second / theirs.per_second)
        } else {
            format!(
                "{:.2}x the time",
                ours.total.as_secs_f64() / theirs.total.as_secs_f64()
            )
        };
        for (r, note) in [(ours, ratio.as_str()), (theirs, "")] {
            table.push_str(&format!(
                "| {} | {} | {:.0} | {} ms | {} ms | {} ms | {} |\n",
                r.measure,
                r.store,
                r.per_second,
                ms(r.p50),
                ms(r.p99),
                ms(r.total),
                note
            ));
        }
        println!(
            "s3_store: {}: ours {}",
            ours.measure,
            ratio.replace("x the", "x s3s-fs's")
        );
    }
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/extra/s3-store.md");
    std::fs::write(&out, table).unwrap();
    println!("wrote {}", out.display());
}
