// The benchmark's sharp side: one source PNG or JPEG -> 128/256/512 px thumbnails in one format
// (jpeg at quality 80, lossy webp at 80, avif at 75: imagegen's defaults; sharp's own effort
// defaults otherwise).
//
// Two strategies are timed, both single-threaded (sharp.concurrency(1) and
// UV_THREADPOOL_SIZE=1, set by run.sh) with the Lanczos3 kernel and quality 80:
//   "decode-once": decode to raw pixels once, then resize+encode each size from them
//                  (the job as specified);
//   "pipelines":   the usual sharp idiom, one clone() pipeline per size
//                  (libvips re-decodes the PNG for each).
// Note that libvips' resize box-shrinks by an integer factor before the
// Lanczos3 pass when reducing a lot; that is sharp's own behaviour and is kept.
//
// Usage: node thumbbench.mjs <source> <decode-once|pipelines> [iterations] [warmup] [format]
// Prints one JSON line in the format shared with the Rust and Python benchmarks; with
// THUMBBENCH_OUT=DIR it also writes the last thumbnails as DIR/{size}.{ext}.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import sharp from "sharp";

const SIZES = [128, 256, 512];
// sharp's output method, its options and the file extension per benchmark format.
const FORMATS = {
  jpeg: ["jpeg", { quality: 80 }, "jpg"],
  webp: ["webp", { quality: 80 }, "webp"],
  avif: ["avif", { quality: 75 }, "avif"],
};
let format = FORMATS.jpeg;

sharp.concurrency(1);
sharp.cache(false);

// Same rounding as imagegen: longest side = size, round half up, min 1, no upscaling.
function fitLongestSide(width, height, size) {
  const longest = Math.max(width, height);
  if (longest <= size) return [width, height];
  const scale = (side) => Math.max(1, Math.floor((side * size * 2 + longest) / (2 * longest)));
  return width >= height ? [size, scale(height)] : [scale(width), size];
}

async function decodeOnce(source) {
  const { data, info } = await sharp(source).raw().toBuffer({ resolveWithObject: true });
  const raw = { raw: { width: info.width, height: info.height, channels: info.channels } };
  const outputs = [];
  for (const size of SIZES) {
    const [width, height] = fitLongestSide(info.width, info.height, size);
    outputs.push(
      await sharp(data, raw)
        .resize(width, height, { kernel: "lanczos3", fit: "fill" })
        .toFormat(format[0], format[1])
        .toBuffer(),
    );
  }
  return [`${info.width}x${info.height}`, outputs];
}

async function pipelines(source) {
  const image = sharp(source);
  const { width: sourceWidth, height: sourceHeight } = await image.metadata();
  const outputs = [];
  for (const size of SIZES) {
    const [width, height] = fitLongestSide(sourceWidth, sourceHeight, size);
    outputs.push(
      await image
        .clone()
        .resize(width, height, { kernel: "lanczos3", fit: "fill" })
        .toFormat(format[0], format[1])
        .toBuffer(),
    );
  }
  return [`${sourceWidth}x${sourceHeight}`, outputs];
}

const [path, strategy = "decode-once", iterationsArg = "30", warmupArg = "3", formatArg = "jpeg"] =
  process.argv.slice(2);
const job = { "decode-once": decodeOnce, pipelines }[strategy];
format = FORMATS[formatArg];
if (!path || !job || !format) {
  console.error("usage: node thumbbench.mjs <source> <decode-once|pipelines> [iterations] [warmup] [jpeg|webp|avif]");
  process.exit(2);
}
const source = readFileSync(path);
for (let i = 0; i < Number(warmupArg); i++) await job(source);
const times = [];
const cpuBefore = process.cpuUsage();
let dims = "";
let outputs = [];
for (let i = 0; i < Math.max(1, Number(iterationsArg)); i++) {
  const started = performance.now();
  [dims, outputs] = await job(source);
  times.push(performance.now() - started);
}
const cpu = process.cpuUsage(cpuBefore);
if (process.env.THUMBBENCH_OUT) {
  SIZES.forEach((size, i) => writeFileSync(join(process.env.THUMBBENCH_OUT, `${size}.${format[2]}`), outputs[i]));
}
const cpuMsPerImage = (cpu.user + cpu.system) / 1e3 / times.length;
times.sort((a, b) => a - b);
const middle = times.length >> 1;
const median = times.length % 2 ? times[middle] : (times[middle - 1] + times[middle]) / 2;
console.log(
  JSON.stringify({
    implementation: `sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}, ${strategy})`,
    source: dims,
    iterations: times.length,
    median_ms: Number(median.toFixed(3)),
    min_ms: Number(times[0].toFixed(3)),
    cpu_ms_per_image: Number(cpuMsPerImage.toFixed(3)),
    output_bytes: outputs.map((o) => o.length),
  }),
);
