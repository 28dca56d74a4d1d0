// The console of `imagegen serve` in a real browser: Debian's headless Chromium, driven by
// playwright-core (which downloads no browser). scripts/test.sh runs it after cargo has built
// target/debug/imagegen; screenshots of the execution pages go to target/console-screenshots/.
//
//   IMAGEGEN_BIN   the imagegen binary (default: $CARGO_TARGET_DIR or target/, then debug/imagegen)
//   CHROMIUM       the browser (default: the first of CHROMIUM_NAMES on PATH)

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import http from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const target = process.env.CARGO_TARGET_DIR || path.join(repo, 'target');
const bin = process.env.IMAGEGEN_BIN || path.join(target, 'debug', 'imagegen');
const shots = path.join(target, 'console-screenshots');
// Long enough that the execution page opens while the image is being made, so the graph has to
// change under the reader's eyes.
const MODEL_LATENCY_MS = 1500;

/** The first program called `name` on PATH. */
/** The browsers the test drives, in order of preference (scripts/install-tools.sh knows them too). */
const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];

function onPath(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    try {
      execFileSync('test', ['-x', candidate]);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

let server;
let browser;
let data;
let base;
let banner = '';

/** `imagegen serve` on a free port, with `env` added to this process's environment (the functions'
 * settings come from it): resolves with the child, its endpoint and its banner once it prints its
 * address. */
function serve(dataDir, env = {}) {
  const child = spawn(bin, ['--data-dir', dataDir, '--fake-latency-ms', String(MODEL_LATENCY_MS), 'serve', '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  let printedSoFar = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('imagegen serve printed no address:\n' + stderr)), 60_000);
    child.stdout.on('data', (chunk) => {
      printedSoFar += chunk;
      const found = printedSoFar.match(/^Listening on (\S+)$/m);
      if (found) {
        clearTimeout(timer);
        resolve({ child, endpoint: found[1], banner: printedSoFar });
      }
    });
    child.on('exit', (code) => reject(new Error(`imagegen serve exited with ${code}:\n${stderr}`)));
  });
}

/** Stops a `serve` child with Ctrl-C and waits for it to exit. */
async function stop(child) {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    await exited;
  }
}

/** A value the banner prints (`export NAME=value`, `Label: value`). */
function printed(pattern) {
  const found = banner.match(pattern);
  assert.ok(found, `the banner has no ${pattern}:\n${banner}`);
  return found[1];
}

before(async () => {
  // Debian's chromium; on a GitHub Ubuntu runner (where chromium is a snap) the preinstalled Chrome.
  const chromiumPath = process.env.CHROMIUM || CHROMIUM_NAMES.map(onPath).find(Boolean);
  assert.ok(chromiumPath, `none of ${CHROMIUM_NAMES.join(', ')} is on PATH: \`bash scripts/install-tools.sh chromium\` installs chromium (scripts/test.sh does)`);
  mkdirSync(shots, { recursive: true });
  data = mkdtempSync(path.join(tmpdir(), 'imagegen-console-'));
  let endpoint;
  ({ child: server, endpoint, banner } = await serve(path.join(data, 'data')));
  server.stdout.on('data', (chunk) => { banner += chunk; });
  base = endpoint + '/console/';
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true });
});

after(async () => {
  await browser?.close();
  await stop(server);
  if (data) rmSync(data, { recursive: true, force: true });
});

/** A page at 1280x800 that fails the test on any script error or dialog (an escaping bug). */
async function newPage(viewport = { width: 1280, height: 800 }) {
  const page = await browser.newPage({ viewport });
  page.on('pageerror', (error) => assert.fail(`script error on ${page.url()}: ${error.message}`));
  page.on('dialog', (dialog) => assert.fail(`a dialog opened (${dialog.message()}): markup from a user ran`));
  return page;
}

/** Marks the document; `stillSame` says whether no reload or navigation happened since. */
async function mark(page) {
  await page.evaluate(() => { window.__imagegenMark = true; });
  return () => page.evaluate(() => window.__imagegenMark === true);
}

const status = (page, state) => page.locator(`svg.graph g.state[data-state="${state}"]`).getAttribute('data-status');
const MAIN_LINE = ['ReceiveInput', 'ValidatePrompt', 'GenerateImage', 'GenerateThumbnails', 'NotifySuccess', 'Done'];

test('a JSON start runs live on the graph, with thumbnails and an email whose link opens the image', async () => {
  const page = await newPage();
  await page.goto(base + 'start');
  const box = page.locator('#json-input');
  // Prefilled with the console example, as on AWS.
  assert.deepEqual(JSON.parse(await box.inputValue()), { prompt: 'a lighthouse at dusk', width: 1024, height: 1024, seed: 42 });

  // Not JSON: said at once, and never sent.
  await box.fill('{"prompt": "a lighthouse at dusk",');
  await page.locator('#json-form button').click();
  await page.locator('#json-error').filter({ hasText: 'not JSON' }).waitFor();
  assert.match(page.url(), /\/console\/start$/);

  await box.fill('{"prompt": "a lighthouse at dusk", "width": 1024, "height": 1024, "seed": 42}');
  await page.locator('#json-form input[name="name"]').fill('browser-ok');
  await page.locator('#json-form button').click();
  await page.waitForURL(/\/console\/executions\/browser-ok$/);
  const stillSame = await mark(page);
  // Opened mid-run: the last states have not run yet.
  assert.notEqual(await status(page, 'NotifySuccess'), 'succeeded', 'the page opened after the run ended');
  // "Running for" counts on while the run goes on (issue 21: it stayed at its first value).
  const first = await page.locator('#running-for').textContent();
  await page.waitForFunction((shown) => {
    const field = document.getElementById('running-for');
    return field !== null && field.textContent !== shown;
  }, first, { timeout: 1000 });
  // Each recolouring of the graph drawn at load, as the events arrive.
  await page.evaluate(() => {
    window.__recoloured = [];
    new MutationObserver((changes) => {
      for (const change of changes) window.__recoloured.push(`${change.target.dataset.state} ${change.target.dataset.status}`);
    }).observe(document.querySelector('svg.graph'), { subtree: true, attributeFilter: ['data-status'] });
  });

  for (const state of MAIN_LINE) {
    await page.locator(`svg.graph g.state[data-state="${state}"][data-status="succeeded"]`).waitFor({ timeout: 60_000 });
  }
  await page.locator('#status .badge', { hasText: 'SUCCEEDED' }).waitFor();
  assert.equal(await status(page, 'NotifyFailure'), 'not-run');
  assert.ok(await stillSame(), 'the page was reloaded');
  const recoloured = await page.evaluate(() => window.__recoloured);
  for (const seen of ['NotifySuccess running', 'NotifySuccess succeeded', 'Done succeeded']) {
    assert.ok(recoloured.includes(seen), `the graph never turned ${seen} as events came: ${recoloured}`);
  }

  const thumbs = page.locator('img.thumb');
  assert.equal(await thumbs.count(), 3);
  await page.waitForFunction(() => [...document.querySelectorAll('img.thumb, img.full')].every((img) => img.complete && img.naturalWidth > 0));
  const widths = await thumbs.evaluateAll((imgs) => imgs.map((img) => img.naturalWidth));
  assert.deepEqual(widths, [128, 256, 512]);
  await page.locator('#history td', { hasText: 'ExecutionSucceeded' }).waitFor();
  await page.locator('#images a', { hasText: 's3://imagegen-local/images/' }).first().waitFor();
  await page.screenshot({ path: path.join(shots, 'execution-succeeded.png'), fullPage: true });
  await page.screenshot({ path: path.join(shots, 'execution-succeeded-top.png'), fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1010 } });

  // The email, then its image link: the PNG, through the local S3 endpoint.
  await page.locator('#email a.open-email').click();
  await page.waitForURL(/\/console\/outbox\//);
  await page.locator('h1.subject', { hasText: 'your image is ready' }).waitFor();
  const link = page.locator('pre.email-body a[href*="/images/"]').first();
  const [image] = await Promise.all([page.waitForEvent('response', (r) => r.url().includes('/images/')), link.click()]);
  assert.equal(image.status(), 200);
  assert.equal(image.headers()['content-type'], 'image/png');
  await page.close();
});

test('a blank prompt shows the failure state, the error and the failure email', async () => {
  const page = await newPage();
  await page.goto(base + 'start');
  await page.locator('#prompt').fill('   ');
  await page.locator('#prompt-form button').click();
  await page.waitForURL(/\/console\/executions\/run-/);
  await page.locator('#status .badge', { hasText: 'FAILED' }).waitFor({ timeout: 60_000 });
  assert.equal(await status(page, 'ValidatePrompt'), 'caught');
  assert.equal(await status(page, 'NotifyFailure'), 'succeeded');
  assert.equal(await status(page, 'PipelineFailed'), 'failed');
  assert.equal(await status(page, 'GenerateImage'), 'not-run');
  const failure = page.locator('#failure');
  await failure.locator('code', { hasText: 'PromptRejected' }).waitFor();
  assert.match(await failure.locator('.cause').textContent(), /the prompt is empty/);
  assert.match(await page.locator('#email .subject').textContent(), /could not make your image/);
  assert.match(await page.locator('#email .email-body').textContent(), /Your prompt was rejected/);
  await page.screenshot({ path: path.join(shots, 'execution-failed.png'), fullPage: true });
  await page.close();
});

test('a prompt of markup is shown as text everywhere', async () => {
  const hostile = '<img src=x onerror=alert(1)>';
  const page = await newPage();
  await page.goto(base + 'start');
  await page.locator('#json-input').fill(JSON.stringify({ prompt: hostile }));
  await page.locator('#json-form input[name="name"]').fill('markup');
  await page.locator('#json-form button').click();
  await page.waitForURL(/\/console\/executions\/markup$/);
  await page.locator('#status .badge', { hasText: 'SUCCEEDED' }).waitFor({ timeout: 60_000 });
  const noInjectedImage = () => page.evaluate(() => document.querySelectorAll('img[src="x"]').length === 0);
  assert.ok((await page.locator('.io pre').first().textContent()).includes(hostile));
  assert.ok((await page.locator('#email .subject').textContent()).includes(hostile));
  assert.ok(await noInjectedImage());
  for (const where of ['', 'outbox']) {
    await page.goto(base + where);
    await page.getByText(hostile).first().waitFor();
    assert.ok(await noInjectedImage(), `an <img> was injected on /console/${where}`);
  }
  await page.close();
});

test('an execution started with the AWS CLI appears in an open console', async (t) => {
  const aws = onPath('aws');
  if (!aws) {
    const hint = 'the AWS CLI is not on PATH: `bash scripts/install-tools.sh aws-cli` installs it (scripts/test.sh does)';
    if (process.env.IMAGEGEN_ALLOW_MISSING_TOOLS === '1') return t.skip(hint);
    assert.fail(hint);
  }
  const page = await newPage();
  await page.goto(base);
  const stillSame = await mark(page);
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: printed(/export AWS_ACCESS_KEY_ID=(\S+)/),
    AWS_SECRET_ACCESS_KEY: printed(/export AWS_SECRET_ACCESS_KEY=(\S+)/),
    AWS_DEFAULT_REGION: printed(/export AWS_DEFAULT_REGION=(\S+)/),
    AWS_CONFIG_FILE: '/nonexistent/imagegen-test-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/imagegen-test-credentials',
  };
  delete env.AWS_PROFILE;
  delete env.AWS_SESSION_TOKEN;
  execFileSync(aws, ['--endpoint-url', base.replace(/\/console\/$/, ''), 'stepfunctions', 'start-execution',
    '--state-machine-arn', printed(/^State machine:\s+(\S+)$/m), '--name', 'from-the-cli',
    '--input', '{"prompt":"a red fox in snow"}'], { env });
  const row = page.locator('tr[data-execution="from-the-cli"]');
  await row.waitFor({ timeout: 30_000 });
  await row.locator('.badge', { hasText: 'SUCCEEDED' }).waitFor({ timeout: 60_000 });
  assert.ok(await stillSame(), 'the list was reloaded');
  // The filter keeps only what it names.
  await page.goto(base + '?status=FAILED');
  assert.equal(await page.locator('tr[data-execution="from-the-cli"]').count(), 0);
  await page.locator('tbody tr').first().waitFor();
  await page.close();
});

test('a dropped prompt file is uploaded under prompts/ and runs', async () => {
  const page = await newPage();
  await page.goto(base + 'start');
  const file = path.join(data, 'a fox.txt');
  writeFileSync(file, 'a fox asleep in the snow');
  await page.locator('#file').setInputFiles(file);
  await page.waitForURL(/\/console\/executions\//);
  await page.locator('#status .badge', { hasText: 'SUCCEEDED' }).waitFor({ timeout: 60_000 });
  assert.ok((await page.locator('.io pre').first().textContent()).includes('prompts/a fox.txt'));
  await page.close();
});

test('a form posted by another site is refused', async () => {
  // Another site on this machine (another port is another origin), whose page posts a form to the
  // console as soon as it opens: even with the console's token in it, it is refused (by the
  // endpoint's gate, which refuses every request a page of another site sends).
  const token = await (async () => {
    const page = await newPage();
    await page.goto(base + 'start');
    const value = await page.locator('meta[name="csrf-token"]').getAttribute('content');
    await page.close();
    return value;
  })();
  const attacker = http.createServer((request, response) => {
    response.setHeader('content-type', 'text/html');
    response.end(`<form method="post" action="${base}start">
      <input name="csrf" value="${token}"><input name="name" value="forged">
      <input name="input" value='{"prompt":"forged"}'></form>
      <script>document.forms[0].submit()</script>`);
  });
  await new Promise((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  try {
    const page = await newPage();
    const refused = page.waitForResponse((r) => r.request().method() === 'POST');
    await page.goto(`http://127.0.0.1:${attacker.address().port}/`);
    const response = await refused;
    assert.equal(response.status(), 403);
    await page.getByText('came from a page of another site').waitFor();
    await page.goto(base);
    assert.equal(await page.locator('tr[data-execution="forged"]').count(), 0);
    await page.close();
  } finally {
    attacker.close();
  }
});

test('every page links an icon the console serves, so no browser asks S3 for /favicon.ico', async () => {
  const page = await newPage();
  const failed = [];
  page.on('response', (response) => {
    if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
  });
  for (const path of ['', 'start', 'outbox', 'state-machine']) {
    await page.goto(base + path);
    const href = await page.locator('link[rel="icon"]').getAttribute('href');
    const icon = await page.request.get(new URL(href, page.url()).href);
    assert.equal(icon.status(), 200, `${path}: the icon ${href}`);
    assert.match(icon.headers()['content-type'], /^image\/svg\+xml/);
  }
  assert.deepEqual(failed, []);
});

test('a page of another site can neither read nor start anything', async () => {
  // The page tries what a script may: read the console and the bucket listing (CORS forbids reading
  // the answers, and the endpoint refuses the requests anyway), and send a Step Functions
  // StartExecution and an SNS Publish blind (`no-cors`), as a rebound or hostile page would.
  const seen = [];
  const attacker = http.createServer((request, response) => {
    response.setHeader('content-type', 'text/html');
    response.end(`<script>
      const endpoint = ${JSON.stringify(new URL(base).origin)};
      const tries = [
        fetch(endpoint + '/console/').then((r) => r.text()),
        fetch(endpoint + '/imagegen-local/?list-type=2').then((r) => r.text()),
        fetch(endpoint + '/', { method: 'POST', mode: 'no-cors',
          headers: { 'content-type': 'text/plain' },
          body: JSON.stringify({ stateMachineArn: 'x', name: 'blind', input: '{}' }) }),
        fetch(endpoint + '/', { method: 'POST', mode: 'no-cors',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'Action=Publish&Message=blind' }),
      ];
      Promise.allSettled(tries).then((all) => {
        document.title = all.map((t) => t.status === 'fulfilled' && typeof t.value === 'string' ? 'read' : 'not-read').join(',');
      });
    </script>`);
  });
  await new Promise((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  try {
    const page = await newPage();
    page.on('response', (r) => { if (r.url().startsWith(new URL(base).origin)) seen.push(r.status()); });
    await page.goto(`http://127.0.0.1:${attacker.address().port}/`);
    await page.waitForFunction(() => document.title.includes('read'));
    assert.equal(await page.title(), 'not-read,not-read,not-read,not-read');
    // The answers the browser reports (not every blocked one is) are the endpoint's refusals
    // (before, the console answered 200).
    assert.ok(seen.length >= 2, `answers seen: ${seen}`);
    for (const status of seen) assert.equal(status, 403, `answers seen: ${seen}`);
    await page.goto(base);
    assert.equal(await page.locator('tr[data-execution="blind"]').count(), 0);
    await page.close();
  } finally {
    attacker.close();
  }
});

test('pages fit a phone', async () => {
  const page = await newPage({ width: 390, height: 844 });
  for (const where of ['', 'start', 'outbox', 'executions/browser-ok']) {
    await page.goto(base + where);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `/console/${where} is ${overflow} px wider than a phone`);
  }
  await page.screenshot({ path: path.join(shots, 'execution-phone.png'), fullPage: true });
  await page.close();
});

test('with THUMBNAIL_FORMATS=avif,webp,jpeg each size is one picture, shown from its AVIF, with every format listed', async () => {
  // The functions take their settings from serve's environment, as they do from the Lambda's.
  const formats = await serve(path.join(data, 'formats'), { THUMBNAIL_FORMATS: 'avif,webp,jpeg' });
  try {
    const page = await newPage();
    await page.goto(formats.endpoint + '/console/start');
    await page.locator('#json-input').fill('{"prompt": "a lighthouse at dusk", "width": 1024, "height": 1024, "seed": 7}');
    await page.locator('#json-form input[name="name"]').fill('three-formats');
    await page.locator('#json-form button').click();
    await page.waitForURL(/\/console\/executions\/three-formats$/);
    await page.locator('#status .badge', { hasText: 'SUCCEEDED' }).waitFor({ timeout: 180_000 });

    const pictures = page.locator('#images picture');
    assert.equal(await pictures.count(), 3, 'one picture per size, not one per file');
    const shown = await pictures.evaluateAll((all) => all.map((picture) => ({
      sources: [...picture.querySelectorAll('source')].map((s) => s.type),
      fallback: picture.querySelector('img.thumb').getAttribute('src').split('?')[0].split('.').pop(),
    })));
    assert.deepEqual(shown, Array(3).fill({ sources: ['image/avif', 'image/webp'], fallback: 'jpg' }));

    // Chromium decodes AVIF, so each picture is drawn from its AVIF source, at the size made.
    await page.waitForFunction(() => [...document.querySelectorAll('img.thumb')].every((img) => img.complete && img.naturalWidth > 0));
    const drawn = await page.locator('img.thumb').evaluateAll((imgs) => imgs.map((img) => ({
      from: new URL(img.currentSrc).pathname.split('.').pop(),
      width: img.naturalWidth,
    })));
    assert.deepEqual(drawn, [128, 256, 512].map((width) => ({ from: 'avif', width })));

    // Every format of every size is listed with its object, and S3 serves it with its type.
    const links = await page.locator('#images .thumbs figcaption a').evaluateAll((all) => all.map((a) => a.href));
    const kinds = links.map((href) => new URL(href).pathname.split('.').pop());
    assert.deepEqual(kinds, ['avif', 'webp', 'jpg', 'avif', 'webp', 'jpg', 'avif', 'webp', 'jpg']);
    const types = await page.evaluate((hrefs) => Promise.all(hrefs.map(async (href) => {
      const response = await fetch(href);
      return response.headers.get('content-type');
    })), links.slice(0, 3));
    assert.deepEqual(types, ['image/avif', 'image/webp', 'image/jpeg']);
    await page.screenshot({ path: path.join(shots, 'execution-three-formats.png'), fullPage: true });
    await page.close();
  } finally {
    await stop(formats.child);
  }
});
