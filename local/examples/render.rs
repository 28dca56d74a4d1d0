//! Render a picture with the offline model's renderer: `cargo run -p imagegen-local --example render
//! -- "a prompt" SEED WIDTH HEIGHT OUT.png`.

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let prompt = args.first().map_or("a lighthouse at dusk", String::as_str);
    let seed = args.get(1).map_or(Ok(7), |s| s.parse())?;
    let width = args.get(2).map_or(Ok(1024), |s| s.parse())?;
    let height = args.get(3).map_or(Ok(1024), |s| s.parse())?;
    let out = args.get(4).map_or("render.png", String::as_str);
    let started = Instant::now();
    let png = imagegen_local::bedrock::render::render_png(prompt, seed, width, height)?;
    println!(
        "{width}x{height}: {} bytes in {:?}",
        png.len(),
        started.elapsed()
    );
    std::fs::write(out, png)?;
    Ok(())
}
