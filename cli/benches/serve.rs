//! `imagegen serve` under load, with the clients on the same machine: presigned GETs of a 1 MiB
//! object (plain HTTP/1.1 keep-alive connections, as a browser or `curl` fetches an email's link) and
//! StartExecution + DescribeExecution round trips through the real `aws_sdk_sfn` client (signed
//! requests, JSON protocol).
//!
//! `cargo bench -p imagegen-cli --bench serve` (release profile) starts the release `imagegen serve`
//! on a free loopback port, prints one summary line per measurement and writes a table to
//! `bench/extra/serve.md`. The executions are started with an empty prompt, which ValidatePrompt
//! rejects (one failure email, no image), so the round trips measure the endpoint rather than the
//! image model. `SERVE_GETS` (default 2000), `SERVE_ROUND_TRIPS` (300) and `SERVE_CONCURRENCY` (4
//! connections or clients) change the workload.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_s3::presigning::PresigningConfig;
use imagegen_local::config::{DEFAULT_REGION, credentials};

const MACHINE: &str = "arn:aws:states:us-east-1:000000000000:stateMachine:imagegen-pipeline";
const OBJECT_BYTES: usize = 1 << 20;

mod common;

use common::{measuring, percentile, workload};

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// One measurement: how many, how long in all, each one's latency.
struct Run {
    count: usize,
    total: Duration,
    latencies: Vec<Duration>,
}

impl Run {
    fn new(total: Duration, mut latencies: Vec<Duration>) -> Self {
        latencies.sort();
        Self {
            count: latencies.len(),
            total,
            latencies,
        }
    }

    fn per_second(&self) -> f64 {
        self.count as f64 / self.total.as_secs_f64()
    }

    fn p50(&self) -> String {
        ms(percentile(&self.latencies, 50.0))
    }

    fn p99(&self) -> String {
        ms(percentile(&self.latencies, 99.0))
    }
}

/// The `imagegen serve` process, stopped with Ctrl-C (SIGINT) when dropped, also when a check
/// panics, so no server outlives the benchmark.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

fn main() {
    let gets = workload("SERVE_GETS", 2000, 4);
    let round_trips = workload("SERVE_ROUND_TRIPS", 300, 2);
    let concurrency = workload("SERVE_CONCURRENCY", 4, 2).max(1);
    let dir = std::env::temp_dir().join(format!("imagegen-serve-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_imagegen"))
            .arg("--data-dir")
            .arg(&dir)
            .args(["serve", "--listen", "127.0.0.1:0", "--grace-seconds", "1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("imagegen serve starts"),
    );
    let mut lines = BufReader::new(server.0.stdout.take().unwrap()).lines();
    let endpoint = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("Listening on ").map(str::to_owned))
        .expect("a Listening on line");
    // Keep draining its output so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = runtime.block_on(presigned_object(&endpoint));
    let get = presigned_gets(&url, gets, concurrency);
    let sequential = runtime.block_on(start_and_describe(&endpoint, round_trips, 1));
    let parallel = runtime.block_on(start_and_describe(&endpoint, round_trips, concurrency));

    drop(server);
    let _ = std::fs::remove_dir_all(&dir);

    let mib_per_second = get.per_second() * OBJECT_BYTES as f64 / f64::from(1 << 20);
    println!(
        "serve: presigned GET of a 1 MiB object, {} requests over {concurrency} keep-alive connections: \
         {:.0} requests/s ({mib_per_second:.0} MiB/s), p50 {} ms, p99 {} ms",
        get.count,
        get.per_second(),
        get.p50(),
        get.p99()
    );
    for (label, run) in [("1 client", &sequential), ("concurrent", &parallel)] {
        println!(
            "serve: StartExecution + DescribeExecution through aws-sdk-sfn, {} round trips, {label}: \
             {:.0} round trips/s, p50 {} ms, p99 {} ms",
            run.count,
            run.per_second(),
            run.p50(),
            run.p99()
        );
    }
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let table = format!(
        "### imagegen serve (local endpoint, client on the same machine)\n\n\
         Release build, {cores} CPU(s); server and clients share them. Presigned GETs: plain \
         HTTP/1.1 keep-alive connections fetching a presigned URL of a 1 MiB object. Round trips: \
         StartExecution then DescribeExecution through `aws-sdk-sfn` (signed, JSON 1.0), with an \
         empty prompt that ValidatePrompt rejects (a failure email, no image).\n\n\
         | measure | requests/s | p50 | p99 |\n| --- | --- | --- | --- |\n\
         | presigned GET 1 MiB, {concurrency} connections ({} requests) | {:.0} ({mib_per_second:.0} MiB/s) | {} ms | {} ms |\n\
         | StartExecution + DescribeExecution, 1 client ({} round trips) | {:.0} round trips/s | {} ms | {} ms |\n\
         | StartExecution + DescribeExecution, {concurrency} clients ({} round trips) | {:.0} round trips/s | {} ms | {} ms |\n",
        get.count,
        get.per_second(),
        get.p50(),
        get.p99(),
        sequential.count,
        sequential.per_second(),
        sequential.p50(),
        sequential.p99(),
        parallel.count,
        parallel.per_second(),
        parallel.p50(),
        parallel.p99(),
    );
    println!("\n{table}");
    if !measuring() {
        return; // a check that it runs, not a measurement
    }
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/extra/serve.md");
    match std::fs::write(&out, &table) {
        Ok(()) => println!("written to {}", out.display()),
        Err(e) => eprintln!("could not write {}: {e}", out.display()),
    }
}

/// Put a 1 MiB object and presign a GET for it (an hour), through the endpoint.
async fn presigned_object(endpoint: &str) -> String {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new(DEFAULT_REGION))
        .credentials_provider(credentials())
        .endpoint_url(endpoint)
        .force_path_style(true)
        .build();
    let s3 = aws_sdk_s3::Client::from_conf(config);
    let body: Vec<u8> = (0..OBJECT_BYTES).map(|i| (i % 251) as u8).collect();
    s3.put_object()
        .bucket("imagegen-local")
        .key("bench/one-mib.bin")
        .body(body.into())
        .send()
        .await
        .unwrap();
    s3.get_object()
        .bucket("imagegen-local")
        .key("bench/one-mib.bin")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(3600)).unwrap())
        .await
        .unwrap()
        .uri()
        .to_owned()
}

/// `total` GETs of `url` spread over `connections` keep-alive connections (one thread each), after
/// a warm-up of a few per connection.
fn presigned_gets(url: &str, total: usize, connections: usize) -> Run {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let request = Arc::new(format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: imagegen-bench\r\n\r\n"
    ));
    let per_connection = total.div_ceil(connections);
    let started = Instant::now();
    let threads: Vec<_> = (0..connections)
        .map(|_| {
            let request = Arc::clone(&request);
            let host = host.to_owned();
            std::thread::spawn(move || {
                let stream = TcpStream::connect(&host).unwrap();
                stream.set_nodelay(true).unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                for _ in 0..3 {
                    get_once(&mut writer, &mut reader, &request);
                }
                (0..per_connection)
                    .map(|_| {
                        let t = Instant::now();
                        get_once(&mut writer, &mut reader, &request);
                        t.elapsed()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let latencies: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    Run::new(started.elapsed(), latencies)
}

/// One GET on a keep-alive connection; the whole body is read and its length checked.
fn get_once(writer: &mut TcpStream, reader: &mut BufReader<TcpStream>, request: &str) {
    writer.write_all(request.as_bytes()).unwrap();
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    assert_eq!(length, OBJECT_BYTES);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
}

/// `total` StartExecution + DescribeExecution pairs from `clients` concurrent SDK callers.
async fn start_and_describe(endpoint: &str, total: usize, clients: usize) -> Run {
    let config = aws_sdk_sfn::Config::builder()
        .behavior_version(aws_sdk_sfn::config::BehaviorVersion::latest())
        .region(aws_sdk_sfn::config::Region::new(DEFAULT_REGION))
        .credentials_provider(credentials())
        .endpoint_url(endpoint)
        .build();
    let sfn = aws_sdk_sfn::Client::from_conf(config);
    let pair = |sfn: aws_sdk_sfn::Client| async move {
        let t = Instant::now();
        let arn = sfn
            .start_execution()
            .state_machine_arn(MACHINE)
            .input(r#"{"prompt": ""}"#)
            .send()
            .await
            .unwrap()
            .execution_arn()
            .to_owned();
        sfn.describe_execution()
            .execution_arn(arn)
            .send()
            .await
            .unwrap();
        t.elapsed()
    };
    for _ in 0..5 {
        pair(sfn.clone()).await;
    }
    let per_client = total.div_ceil(clients);
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let sfn = sfn.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(per_client);
                for _ in 0..per_client {
                    latencies.push(pair(sfn.clone()).await);
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(total);
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    Run::new(started.elapsed(), latencies)
}
