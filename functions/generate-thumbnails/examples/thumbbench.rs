//! The benchmark's imagegen side: one source PNG or JPEG -> 128/256/512 px thumbnails in one
//! format (default `jpeg`; `webp`, `avif`) at the format's default quality, timed in-process on
//! one thread.
//!
//! Usage: `thumbbench <source> [iterations] [warmup] [format]`
//! The function's own settings apply (`THUMBNAIL_SIZES`, `THUMBNAIL_QUALITY`, ...; unset, its
//! defaults); `format`, when given, replaces its formats.
//! Prints one JSON line, the format shared with `bench/python` and `bench/node`:
//! wall-clock median/min per image and the mean CPU time per image (robust
//! when other processes share the cores). With `THUMBBENCH_OUT=DIR` it also writes the last
//! iteration's thumbnails as `DIR/{size}.{ext}`, which `bench/thumbnails.py` scores.

use std::error::Error;
use std::time::Instant;

use generate_thumbnails::Config;
use generate_thumbnails::thumbnail::{ThumbnailFormat, make_thumbnails};
use imagegen_core::config::ProcessEnv;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .ok_or("usage: thumbbench <source> [iterations] [warmup] [format]")?;
    let iterations: usize = args.get(2).map_or(Ok(30), |n| n.parse())?;
    let warmup: usize = args.get(3).map_or(Ok(3), |n| n.parse())?;
    let source = std::fs::read(path)?;
    let mut spec = Config::from_env(&ProcessEnv)?.spec;
    if let Some(formats) = args.get(4) {
        spec.formats = ThumbnailFormat::parse_list(formats)?;
    }

    for _ in 0..warmup {
        make_thumbnails(&source, &spec)?;
    }
    let cpu_before = cpu_time_ns();
    let mut times_ms = Vec::with_capacity(iterations);
    let mut output_bytes = Vec::new();
    let mut last = Vec::new();
    let mut dimensions = (0, 0);
    for _ in 0..iterations.max(1) {
        let started = Instant::now();
        let (info, thumbnails) = make_thumbnails(&source, &spec)?;
        times_ms.push(started.elapsed().as_secs_f64() * 1e3);
        dimensions = (info.width, info.height);
        output_bytes = thumbnails
            .iter()
            .map(|t| t.bytes.len().to_string())
            .collect();
        last = thumbnails;
    }
    if let Some(dir) = std::env::var_os("THUMBBENCH_OUT") {
        for thumbnail in &last {
            let name = format!("{}.{}", thumbnail.size, thumbnail.format.extension());
            std::fs::write(std::path::Path::new(&dir).join(name), &thumbnail.bytes)?;
        }
    }
    let cpu_ms_per_image =
        cpu_time_ns().saturating_sub(cpu_before) as f64 / 1e6 / times_ms.len() as f64;
    times_ms.sort_by(f64::total_cmp);
    let middle = times_ms.len() / 2;
    let median_ms = if times_ms.len() % 2 == 1 {
        times_ms[middle]
    } else {
        (times_ms[middle - 1] + times_ms[middle]) / 2.0
    };
    println!(
        r#"{{"implementation": "imagegen", "source": "{}x{}", "iterations": {}, "median_ms": {:.3}, "min_ms": {:.3}, "cpu_ms_per_image": {:.3}, "output_bytes": [{}]}}"#,
        dimensions.0,
        dimensions.1,
        times_ms.len(),
        median_ms,
        times_ms[0],
        cpu_ms_per_image,
        output_bytes.join(", ")
    );
    Ok(())
}

/// CPU time of this (single-threaded) process so far, from `/proc/self/schedstat`.
fn cpu_time_ns() -> u64 {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()
        .and_then(|stat| stat.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
