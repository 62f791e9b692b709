/**
 * The page in a real browser: Debian's chromium driven by playwright-core. Builds the page
 * (Vite), serves it (cross-origin isolated, so onnxruntime-web may use threads), merges the
 * shipped ResNet-20 fixture pair there, downloads the merged model and the visual report, and
 * checks them against `zipit merge` of the same inputs: the same accuracy on the same test
 * images, weights equal up to float noise (statistics summed in another order by wasm). Prints
 * the benchmark: the browser's merge time over the CLI's (onnxruntime-web/wasm vs native).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readOnnx } from '@zipit/io-onnx';
import {
  exportBuiltinImages,
  openDataset,
  openImageFolder,
  parseDatasetSpec,
  writeImageFile,
  type BuiltinSpec,
  type FolderSpec,
  type PresetName,
} from '@zipit/data';
import { evaluateMerged, labelled, type MergeReport, type ModelInput } from '@zipit/pipeline';
import { ortExecutor } from '@zipit/runtime-ort';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb, TEST_PER_TASK } from './build.js';

const repo = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const fixtures = ['resnet20_mnist_0-4.onnx', 'resnet20_mnist_5-9.onnx'].map((f) => join(repo, 'fixtures', 'models', f));
const TASKS = ['mnist:0-4', 'mnist:5-9'];
/** Where screenshots for the README go when ZIPIT_SCREENSHOTS=1 (docs/img). */
const shots = process.env.ZIPIT_SCREENSHOTS === '1' ? join(repo, 'docs', 'img') : null;

/**
 * `zipit merge` from the sources, on one thread like the page (whose onnxruntime-web runs
 * single-threaded in its worker), writing `merged.onnx` into `out` with no evaluation.
 */
function cliMerge(out: string, args: string[], timeout: number) {
  return spawnSync(
    process.execPath,
    [
      '--conditions=@zipit/source',
      '--import',
      'tsx',
      join(repo, 'packages/cli/src/main.ts'),
      'merge',
      ...args,
      '--threads',
      '1',
      '--no-eval',
      '--quiet',
      '--out',
      join(out, 'merged.onnx'),
    ],
    { cwd: repo, encoding: 'utf8', timeout },
  );
}

/** The chromium to drive: $CHROMIUM_PATH, else Debian's. A missing browser fails the test with how to install it. */
function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(
      `the browser test needs chromium at ${path}, which does not exist. Install it with \`apt-get install -y chromium\` (Debian/Ubuntu; .ci/run does this when apt is available) or point CHROMIUM_PATH at a Chromium/Chrome binary. \`npx playwright install\` is not used.`,
    );
  }
  return path;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
};

/** A static server for the built page, cross-origin isolated (COOP/COEP) like a deployment that wants wasm threads. */
function serve(root: string): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    const path = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    const file = path.endsWith('/') ? join(path, 'index.html') : path;
    if (!file.startsWith(root)) return void res.writeHead(403).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-embedder-policy': 'require-corp',
      });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` })));
}

/** Console errors, uncaught page errors and every request that leaves the local server. */
function watch(page: Page, allowed: string): { errors: string[]; external: string[] } {
  const w = { errors: [] as string[], external: [] as string[] };
  page.on('console', (m) => m.type() === 'error' && w.errors.push(m.text()));
  page.on('pageerror', (e) => w.errors.push(e.message));
  page.on('request', (r) => !r.url().startsWith(allowed) && !/^(data|blob|about):/.test(r.url()) && w.external.push(r.url()));
  return w;
}

describe('the web app in chromium', () => {
  let dir: string;
  let server: Server;
  let url: string;
  let context: BrowserContext;

  beforeAll(async () => {
    const executablePath = chromiumPath();
    dir = await mkdtemp(join(tmpdir(), 'zipit-web-'));
    const dist = await buildWeb(join(dir, 'dist'));
    ({ server, url } = await serve(dist));
    try {
      context = await chromium.launchPersistentContext(join(dir, 'profile'), {
        executablePath,
        headless: true,
        acceptDownloads: true,
        viewport: { width: 1280, height: 900 },
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
          '--disable-quic',
        ],
      });
    } catch (e) {
      throw new Error(
        `chromium at ${executablePath} did not start (${(e as Error).message.split('\n')[0]}); reinstall it with \`apt-get install -y chromium\` or set CHROMIUM_PATH`,
      );
    }
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('merges the ResNet-20 fixture pair like `zipit merge`, and its visual report renders offline', async () => {
    // The CLI's merge of the same inputs on the same merge data (the first 256 training images of each
    // task), on one thread like the page (whose onnxruntime-web runs single-threaded in its worker).
    const cliDir = join(dir, 'cli');
    await mkdir(cliDir);
    const t0 = performance.now();
    const cli = cliMerge(cliDir, [...fixtures, ...TASKS.flatMap((t) => ['--data', t]), '--samples', '512', '--report', join(cliDir, 'report.json')], 60_000);
    const cliWall = (performance.now() - t0) / 1000;
    expect(cli.status, cli.stderr).toBe(0);
    const cliReport = JSON.parse(await readFile(join(cliDir, 'report.json'), 'utf8')) as MergeReport;

    const page = await context.newPage();
    const seen = watch(page, url);
    await page.goto(url);
    await page.setInputFiles('#models', fixtures);
    await page.waitForFunction("!document.getElementById('merge').disabled", null, { timeout: 20_000 });
    expect(await page.evaluate("[...document.querySelectorAll('#task-list select.task-data')].map((s) => s.value)")).toEqual(TASKS);
    // ResNet-20 declares no layers for a least-squares refit: the option is off and cannot be picked.
    expect(await page.isDisabled('#refit')).toBe(true);
    if (shots) await page.screenshot({ path: join(shots, 'web-app-ready.png'), fullPage: true });
    await page.click('#merge');
    await page.waitForFunction('document.body.dataset.state !== undefined', null, { timeout: 150_000 });
    expect(await page.textContent('#status'), 'the page reported an error').toMatch(/^merged in/);
    const browser = (await page.evaluate('window.zipitResult')) as { seconds: number; accuracy: MergeReport['accuracy']; stages: MergeReport['seconds'] };
    if (shots) await page.screenshot({ path: join(shots, 'web-app-merged.png'), fullPage: true });

    const download = async (selector: string) => {
      const [d] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
      return readFile((await d.path())!);
    };
    const onnx = new Uint8Array(await download('#download-onnx'));
    const html = (await download('#download-report')).toString('utf8');
    expect(seen.errors).toEqual([]);
    expect(seen.external).toEqual([]);

    // Same structure as the CLI's merge, weights equal up to float noise.
    const fromWeb = readOnnx(onnx);
    const fromCli = readOnnx(new Uint8Array(await readFile(join(cliDir, 'merged.onnx'))));
    expect(fromWeb.nodes.map((n) => `${n.opType}:${n.name}`)).toEqual(fromCli.nodes.map((n) => `${n.opType}:${n.name}`));
    expect([...fromWeb.initializers.keys()].sort()).toEqual([...fromCli.initializers.keys()].sort());
    let maxDiff = 0;
    for (const [name, t] of fromCli.initializers) {
      const w = fromWeb.initializers.get(name)!.data as Float32Array;
      if (!(t.data instanceof Float32Array)) continue;
      for (let i = 0; i < w.length; i++) maxDiff = Math.max(maxDiff, Math.abs(w[i] - t.data[i]));
    }

    // Same accuracy on the same test images (the subset's: the first TEST_PER_TASK of each task's test split), both run by onnxruntime-node.
    const testSets = await Promise.all(TASKS.map((t) => openDataset(`${t}:test`, { defaultSplit: 'test', input: fromCli.inputs[0] })));
    const models: ModelInput[] = cliReport.inputs.map((i) => ({ name: i.name, file: i.file, graph: fromCli }));
    const tests = testSets.map((d, k) => ({ name: models[k].name, data: labelled(d, 64, TEST_PER_TASK) }));
    const outputs = (g: typeof fromCli) => models.map((m) => ({ model: m.name, value: g.outputs.find((o) => o.name.startsWith(`${m.name}:`))!.name }));
    const accWeb = await evaluateMerged('web', { graph: fromWeb, outputs: outputs(fromWeb) }, models, tests, { executor: ortExecutor });
    const accCli = await evaluateMerged('cli', { graph: fromCli, outputs: outputs(fromCli) }, models, tests, { executor: ortExecutor });
    expect(accWeb.perTask).toEqual(accCli.perTask);
    expect(accWeb.joint).toBe(accCli.joint);
    // The page's own evaluation (wasm) agrees with onnxruntime-node's on the same images.
    const pageMerged = browser.accuracy.find((a) => a.model.startsWith('merged'))!;
    expect(pageMerged.perTask).toEqual(accWeb.perTask);
    expect(maxDiff).toBeLessThan(1e-3);

    // The downloaded visual report renders offline, without console errors or requests.
    const reportPage = await context.newPage();
    const reportSeen = watch(reportPage, 'file://');
    const reportFile = join(dir, 'report.html');
    await writeFile(reportFile, html);
    await reportPage.goto(`file://${reportFile}`);
    await reportPage.waitForFunction('document.body.dataset.rendered !== undefined', null, { timeout: 20_000 });
    expect(await reportPage.evaluate('document.body.dataset.rendered')).toBe('true');
    expect(await reportPage.locator('.chart svg').count()).toBeGreaterThanOrEqual(5);
    expect(reportSeen.errors).toEqual([]);
    expect(reportSeen.external).toEqual([]);
    if (shots) await reportPage.screenshot({ path: join(shots, 'report.png'), fullPage: true });

    const stages = (s: MergeReport['seconds']) => (s.statistics ?? 0) + (s.matching ?? 0) + (s.zip ?? 0) + (s.batchnorm ?? 0);
    const ratio = stages(browser.stages) / stages(cliReport.seconds);
    console.log(
      `[bench web] ResNet-20 fixture pair, 512 merge images: browser (onnxruntime-web, wasm, 1 thread) ${stages(browser.stages).toFixed(2)} s vs CLI (onnxruntime-node, 1 thread) ${stages(cliReport.seconds).toFixed(2)} s` +
        ` for statistics + matching + zip + BatchNorm reset: ratio ${ratio.toFixed(2)}× (whole page run ${browser.seconds.toFixed(1)} s incl. evaluation of ${2 * TEST_PER_TASK} images; CLI process ${cliWall.toFixed(1)} s);` +
        ` merged weights max |Δ| ${maxDiff.toExponential(1)}; accuracy on the same ${2 * TEST_PER_TASK} test images: joint ${(100 * accWeb.joint).toFixed(2)} % (web) = ${(100 * accCli.joint).toFixed(2)} % (CLI)`,
    );
  }, 240_000);
  it('refits a ViT merge by least squares like `zipit merge --refit`', async () => {
    const vit = ['vit_mnist_0-4.onnx', 'vit_mnist_5-9.onnx'].map((f) => join(repo, 'fixtures', 'models', f));
    const page = await context.newPage();
    const seen = watch(page, url);
    await page.goto(url);
    await page.setInputFiles('#models', vit);
    await page.waitForFunction("!document.getElementById('merge').disabled", null, { timeout: 20_000 });
    expect(await page.isDisabled('#refit')).toBe(false);
    await page.check('#refit');
    await page.fill('#samples', '128');
    await page.click('#merge');
    await page.waitForFunction('document.body.dataset.state !== undefined', null, { timeout: 120_000 });
    expect(await page.textContent('#status'), 'the page reported an error').toMatch(/^merged in/);
    const browser = (await page.evaluate('window.zipitResult')) as { accuracy: MergeReport['accuracy']; stages: MergeReport['seconds'] };
    expect(browser.stages.refit).toBeGreaterThan(0);
    const [d] = await Promise.all([page.waitForEvent('download'), page.click('#download-report')]);
    expect((await readFile((await d.path())!)).toString('utf8')).toMatch(/least-squares refit/);
    expect(seen.errors).toEqual([]);

    // The CLI's refit of the same pair on the same merge images, evaluated on the page's test images.
    const cliDir = join(dir, 'cli-vit');
    await mkdir(cliDir);
    const cli = cliMerge(cliDir, [...vit, ...TASKS.flatMap((t) => ['--data', t]), '--samples', '128', '--refit'], 120_000);
    expect(cli.status, cli.stderr).toBe(0);
    const fromCli = readOnnx(new Uint8Array(await readFile(join(cliDir, 'merged.onnx'))));
    const testSets = await Promise.all(TASKS.map((t) => openDataset(`${t}:test`, { defaultSplit: 'test', input: fromCli.inputs[0] })));
    const names = ['vit_mnist_0-4', 'vit_mnist_5-9'];
    const models: ModelInput[] = names.map((name) => ({ name, file: `${name}.onnx`, graph: fromCli }));
    const outputs = models.map((m) => ({ model: m.name, value: fromCli.outputs.find((o) => o.name.startsWith(`${m.name}:`))!.name }));
    const tests = testSets.map((t, k) => ({ name: names[k], data: labelled(t, 64, TEST_PER_TASK) }));
    const accCli = await evaluateMerged('cli', { graph: fromCli, outputs }, models, tests, { executor: ortExecutor });
    const pageMerged = browser.accuracy.find((a) => a.model.startsWith('merged'))!;
    // wasm and onnxruntime-node round differently through twelve least-squares solves: agree within 2 of 256 images.
    expect(Math.abs((pageMerged.joint ?? 0) - accCli.joint)).toBeLessThanOrEqual(2 / (2 * TEST_PER_TASK));
  }, 240_000);

  it('merges on picked image folders like `zipit merge --data FOLDER --preprocess mnist`, and measures its canvas resizing against sharp', async () => {
    // 20 PNG digits per task (4 per class, class subfolders), as `zipit images export` writes them.
    const folders = await Promise.all(
      TASKS.map(async (t) => {
        const folder = join(dir, `png-${t.replace(':', '-')}`);
        await exportBuiltinImages(parseDatasetSpec(t) as BuiltinSpec, folder, { perClass: 4 });
        return folder;
      }),
    );
    const cliDir = join(dir, 'cli-images');
    await mkdir(cliDir);
    const cli = cliMerge(cliDir, [...fixtures, ...folders.flatMap((f) => ['--data', f]), '--preprocess', 'mnist', '--samples', '40'], 60_000);
    expect(cli.status, cli.stderr).toBe(0);

    const page = await context.newPage();
    const seen = watch(page, url);
    await page.goto(url);
    await page.setInputFiles('#models', fixtures);
    await page.waitForFunction("!document.getElementById('merge').disabled", null, { timeout: 20_000 });
    const rows = page.locator('#task-list .task');
    for (let k = 0; k < folders.length; k++) {
      await rows.nth(k).locator('select.task-data').selectOption('images');
      await rows.nth(k).locator('input.image-folder').setInputFiles(folders[k]);
      await rows.nth(k).locator('select.preset').selectOption('mnist');
    }
    await page.fill('#samples', '40');
    await page.click('#merge');
    await page.waitForFunction('document.body.dataset.state !== undefined', null, { timeout: 60_000 });
    expect(await page.textContent('#status'), 'the page reported an error').toMatch(/^merged in/);
    // Image files are merge data only: nothing evaluated (the subsets would have been).
    expect(await page.evaluate('window.zipitResult.accuracy')).toEqual([]);
    const [d] = await Promise.all([page.waitForEvent('download'), page.click('#download-onnx')]);
    const fromWeb = readOnnx(new Uint8Array(await readFile((await d.path())!)));
    const fromCli = readOnnx(new Uint8Array(await readFile(join(cliDir, 'merged.onnx'))));
    let maxDiff = 0;
    for (const [name, t] of fromCli.initializers) {
      const w = fromWeb.initializers.get(name)!.data as Float32Array;
      if (!(t.data instanceof Float32Array)) continue;
      for (let i = 0; i < w.length; i++) maxDiff = Math.max(maxDiff, Math.abs(w[i] - t.data[i]));
    }
    expect(maxDiff).toBeLessThan(1e-3);

    // The samples themselves. 28×28 PNGs under the mnist preset are not resized: decoded
    // losslessly, they must equal the CLI's bit for bit.
    const input = fromCli.inputs[0];
    const webTensor = async (k: number, shape: number[]) => {
      const b = Buffer.from((await page.evaluate(`window.zipitImageTensor(${k}, ${JSON.stringify(shape)})`)) as string, 'base64');
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    };
    const cliTensor = async (folder: string, preset: PresetName, shape: number[]) => {
      const data = await openImageFolder(parseDatasetSpec(folder) as FolderSpec, { input: { name: 'x', dtype: 'float32', shape }, preprocess: { preset } });
      const parts: Float32Array[] = [];
      for await (const b of data.batches({ batchSize: 64 })) parts.push(b.x.data as Float32Array);
      return Float32Array.from(parts.flatMap((p) => [...p]));
    };
    const levels = (a: Float32Array, b: Float32Array, std: readonly number[], plane: number) => {
      expect(a.length).toBe(b.length);
      let max = 0;
      let sum = 0;
      for (let i = 0; i < a.length; i++) {
        const c = Math.floor(i / plane) % std.length;
        const dl = Math.abs(a[i] - b[i]) * std[c] * 255;
        max = Math.max(max, dl);
        sum += dl;
      }
      return { max, mean: sum / a.length };
    };
    const shape = input.shape as number[];
    const same = levels(await webTensor(0, shape), await cliTensor(folders[0], 'mnist', shape), [0.3081], 32 * 32);
    expect(same.max).toBeLessThan(1e-3);
    // Several files picked (no folder) are a flat folder: the same images in the same order as the CLI's.
    const flat = join(dir, 'flat');
    await mkdir(flat);
    const flatFiles: string[] = [];
    for (const c of await readdir(folders[1]))
      for (const f of await readdir(join(folders[1], c))) {
        await copyFile(join(folders[1], c, f), join(flat, f));
        flatFiles.push(join(flat, f));
      }
    await rows.nth(1).locator('input.image-files').setInputFiles(flatFiles);
    const flatSame = levels(await webTensor(1, shape), await cliTensor(flat, 'mnist', shape), [0.3081], 32 * 32);
    expect(flatSame.max).toBeLessThan(1e-3);

    // Resizing: canvas drawImage (imageSmoothingQuality 'high') against the CLI's sharp (PIL-like
    // bilinear), in 8-bit levels. Enlarging: the digits under the cifar preset (28 → 32, RGB).
    // Shrinking: four 480×360 RGB images (a sine pattern with sharp-edged blocks) under imagenet (→ 341×256, crop 224).
    await rows.nth(0).locator('select.preset').selectOption('cifar');
    const up = levels(await webTensor(0, [1, 3, 32, 32]), await cliTensor(folders[0], 'cifar', [1, 3, 32, 32]), [0.247, 0.2435, 0.2616], 32 * 32);
    const big = join(dir, 'big');
    await mkdir(big);
    for (let n = 0; n < 4; n++) {
      const [w, h] = [480, 360];
      const pixels = new Uint8Array(w * h * 3);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          for (let c = 0; c < 3; c++) {
            const block = ((Math.floor(x / (9 + n)) * 7 + Math.floor(y / (11 + n)) * 13 + c * 5) % 17) * 8;
            pixels[(y * w + x) * 3 + c] = Math.round(0.5 * block + 60 + 50 * Math.sin((x * (c + 1)) / (15 + 5 * n) + y / 23));
          }
      await writeImageFile(join(big, `img${n}.png`), { pixels, width: w, height: h, channels: 3 }, 'png');
    }
    await rows.nth(0).locator('input.image-folder').setInputFiles(big);
    await rows.nth(0).locator('select.preset').selectOption('imagenet');
    const down = levels(await webTensor(0, [1, 3, 224, 224]), await cliTensor(big, 'imagenet', [1, 3, 224, 224]), [0.229, 0.224, 0.225], 224 * 224);
    expect(seen.errors).toEqual([]);
    expect(seen.external).toEqual([]);
    // Measured bounds (levels of 255), with room: see the README's "In the browser".
    expect(up.mean).toBeLessThan(3);
    expect(down.mean).toBeLessThan(3);
    console.log(
      `[web images] 40 PNG digits, --preprocess mnist: merged weights max |Δ| vs CLI ${maxDiff.toExponential(1)}, samples max |Δ| ${same.max.toFixed(3)} levels;` +
        ` canvas vs sharp resize, enlarging 28→32 (cifar): mean ${up.mean.toFixed(2)}, max ${up.max.toFixed(1)} levels; shrinking 480×360→341×256 (imagenet): mean ${down.mean.toFixed(2)}, max ${down.max.toFixed(1)} levels`,
    );
  }, 120_000);
});
