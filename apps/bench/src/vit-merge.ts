import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { prepareVit, vitArch } from '@zipit/arch-vit';
import {
  defaultMatcherRegistry,
  getPointMatcher,
  matchMergeGraph,
  permuteModel,
  randomPointPermutations,
  SeededRandom,
  type FeatureStats,
  type Graph,
  type MatcherParams,
  type MergeGraph,
} from '@zipit/core';
import { openDataset } from '@zipit/data';
import { ortExecutor as executor } from '@zipit/runtime-ort';
import { readOnnxFile } from '@zipit/io-onnx/node';
import { computeStatistics, ensembleGraph, evaluateTasks, mergeModels, runModel, type Batch, type ModelInput, type TaskData } from '@zipit/pipeline';

/**
 * `pnpm --filter @zipit/bench bench:vit`: merges the ViT fixture pair (fixtures/models/
 * vit_mnist_0-4.onnx and vit_mnist_5-9.onnx, two ViTs trained from different seeds on disjoint
 * MNIST halves) with every method at every stop point and prints per-task, average and joint
 * test accuracy as a Markdown table, then measures how far LayerNorm is from commuting with the
 * stream's merge.
 *
 *   pnpm --filter @zipit/bench bench:vit [--images N] [--threads N]
 *
 * Rows: the ensemble (both models whole), `average` (weights averaged, nothing aligned),
 * `permute` (one-to-one matching across models, heads aligned), `zipit` with heads matched by
 * index (head j with head j, features matched within) and `zipit` with head alignment. Models
 * are prepared with stream junctions (see prepareVit), so every block boundary is a stop point;
 * "single stream" rows zip the unprepared models (one transform for the whole stream).
 */
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

interface Row {
  method: string;
  stop: string;
  perTask: number[];
  average: number;
  joint: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      images: { type: 'string', default: '1000' },
      threads: { type: 'string', default: '1' },
      alpha: { type: 'string' },
      beta: { type: 'string' },
    },
  });
  const images = Number(values.images);
  const threads = Number(values.threads);
  const zipitParams: MatcherParams = {
    ...(values.alpha !== undefined ? { alpha: Number(values.alpha) } : {}),
    ...(values.beta !== undefined ? { beta: Number(values.beta) } : {}),
  };
  const dir = join(REPO, 'fixtures/models');
  const raw = await Promise.all(['vit_mnist_0-4', 'vit_mnist_5-9'].map((n) => readOnnxFile(join(dir, `${n}.onnx`))));
  const names = ['A', 'B'];
  const plain: ModelInput[] = raw.map((graph, k) => ({ name: names[k], graph, file: `${names[k]}.onnx` }));
  const prepared: ModelInput[] = raw.map((graph, k) => ({ name: names[k], graph: prepareVit(graph), file: `${names[k]}.onnx` }));
  const input = raw[0].inputs[0];
  const merge: Batch[] = [];
  for await (const b of (await openDataset('mnist', { defaultSplit: 'train', input })).batches({ batchSize: 100, limit: images })) merge.push(b);
  const tasks: TaskData[] = await Promise.all(
    ['mnist:0-4', 'mnist:5-9'].map(async (spec, k) => {
      const test: Batch[] = [];
      for await (const b of (await openDataset(spec, { defaultSplit: 'test', input })).batches({ batchSize: 256 })) test.push(b);
      return { name: spec, output: `${names[k]}:logits`, data: () => test };
    }),
  );

  const plainMg = vitArch.mergeGraph(plain[0].graph);
  const mg = vitArch.mergeGraph(prepared[0].graph);
  const t0 = performance.now();
  const plainStats = await computeStatistics(plain, plainMg, merge, { executor, threads });
  const stats = await computeStatistics(prepared, mg, merge, { executor, threads });
  const statSeconds = (performance.now() - t0) / 1000;
  const rows: Row[] = [];
  const record = async (method: string, stop: string, graph: Graph) => {
    const r = await evaluateTasks(graph, tasks, { executor, threads });
    rows.push({ method, stop, perTask: r.perTask, average: r.average, joint: r.joint });
    console.error(`${method.padEnd(34)} ${stop.padEnd(16)} joint ${(100 * r.joint).toFixed(2)}`);
  };

  await record('ensemble', '—', ensembleGraph(prepared, mg).graph);
  for (const [label, models, m, s] of [
    ['single stream', plain, plainMg, plainStats],
    ['', prepared, mg, stats],
  ] as const) {
    const stops = m.points.filter((p) => p.stopPoint).map((p) => p.name);
    for (const [method, params, alignBlocks, title] of [
      ['average', undefined, false, 'average'],
      ['permute', undefined, true, 'permute (heads aligned)'],
      ['permute', undefined, false, 'permute (heads by index)'],
      ['zipit', zipitParams, false, 'zipit, heads by index'],
      ['zipit', zipitParams, true, 'zipit, heads aligned'],
    ] as const) {
      for (const stop of stops) {
        const r = await mergeModels(models, { method, params, stopAt: stop, mergeGraph: m, alignBlocks, stats: s, data: () => merge, executor, threads });
        await record(label ? `${title} — ${label}` : title, stop === stops[stops.length - 1] ? `${stop} (all)` : stop, r.graph);
      }
    }
  }

  const pct = (v: number) => (100 * v).toFixed(2);
  console.log(`ViT fixture pair: ${raw.length} models, merge data ${images} MNIST train images (both halves), statistics ${statSeconds.toFixed(1)} s.`);
  console.log(`zipit parameters: ${JSON.stringify({ ...defaultMatcherRegistry().get('zipit').defaults, ...zipitParams })}\n`);
  console.log(`| method | zipped up to | ${tasks.map((t) => `${t.name} acc`).join(' | ')} | task avg | joint |`);
  console.log(`|---|---|${tasks.map(() => '---|').join('')}---|---|`);
  for (const r of rows) console.log(`| ${r.method} | ${r.stop} | ${r.perTask.map(pct).join(' | ')} | ${pct(r.average)} | ${pct(r.joint)} |`);

  await layerNormReport(plain, plainMg, plainStats, merge, threads);
}

/**
 * LayerNorm under a merge of the stream: at every LayerNorm input, with x the stacked stream
 * features of both models on the same images and M the stream's merge, the relative error
 * ‖LN(Mx) − M·LN(x)‖ / ‖M·LN(x)‖ of the normalisation (without the affine part), for the
 * `permute` and `zipit` merges of the pair, and for `zipit` on A and a permuted copy of A (where
 * LN is exact: the error is float rounding).
 */
async function layerNormReport(models: ModelInput[], mg: MergeGraph, stats: FeatureStats, data: Batch[], threads: number): Promise<void> {
  const stream = mg.points[mg.points.length - 1];
  const d = stream.channels;
  const lnInputs = [
    ...new Set(
      stream.values
        .map((v) => v.value)
        .filter((v) => models[0].graph.nodes.some((n) => n.opType === 'ReduceMean' && n.inputs[0] === v && n.name.includes('norm'))),
    ),
  ];
  // A with a copy of itself whose hidden units (heads whole) are permuted: what "exact under permutations" means.
  const permutedCopy: ModelInput = {
    name: 'P(A)',
    graph: permuteModel(models[0].graph, mg, randomPointPermutations(mg, new SeededRandom(5))),
    file: 'P(A).onnx',
  };
  const selfStats = await computeStatistics([models[0], permutedCopy], mg, data, { executor, threads });
  const tap = async (g: Graph) => {
    const out: Float32Array[][] = lnInputs.map(() => []);
    for await (const r of runModel(g, data.slice(0, 2), { executor, threads, fetch: lnInputs }))
      lnInputs.forEach((v, i) => out[i].push(r.values[v].data as Float32Array));
    return out.map((chunks) => Float32Array.from(chunks.flatMap((c) => Array.from(c))));
  };
  const taps = await Promise.all([models[0], models[1], permutedCopy].map((m) => tap(m.graph)));
  const cases = [
    { title: 'permute, A and B', method: 'permute', st: stats, pair: [0, 1] },
    { title: 'zipit, A and B', method: 'zipit', st: stats, pair: [0, 1] },
    { title: 'zipit, A and P(A)', method: 'zipit', st: selfStats, pair: [0, 2] },
  ];
  console.log('\nLayerNorm vs. the merge of the stream (relative error of the normalisation, all tokens of 200 images):\n');
  console.log(`| LayerNorm input | ${cases.map((c) => c.title).join(' | ')} |`);
  console.log(`|---|${cases.map(() => '---|').join('')}`);
  const transforms = cases.map((c) => {
    const res = matchMergeGraph(
      mg,
      (i) => c.st.covariance(i),
      2,
      getPointMatcher(defaultMatcherRegistry(), c.method),
      c.method === 'zipit' && c.pair[1] === 2 ? { alpha: 0.01, beta: 0 } : undefined,
      { alignBlocks: true },
    );
    return res[stream.index]!;
  });
  lnInputs.forEach((value, i) => {
    const errs = cases.map((c, ci) => {
      const { merge } = transforms[ci];
      const xa = taps[c.pair[0]][i];
      const xb = taps[c.pair[1]][i];
      const tokens = xa.length / d;
      let num = 0;
      let den = 0;
      const x = new Float64Array(2 * d);
      const mx = new Float64Array(d);
      const lnx = new Float64Array(2 * d);
      const mlnx = new Float64Array(d);
      for (let t = 0; t < tokens; t++) {
        for (let c = 0; c < d; c++) {
          x[c] = xa[t * d + c];
          x[d + c] = xb[t * d + c];
        }
        normalise(x.subarray(0, d), lnx.subarray(0, d));
        normalise(x.subarray(d), lnx.subarray(d));
        for (let r = 0; r < d; r++) {
          let s = 0;
          let sl = 0;
          for (let c = 0; c < 2 * d; c++) {
            s += merge[r * 2 * d + c] * x[c];
            sl += merge[r * 2 * d + c] * lnx[c];
          }
          mx[r] = s;
          mlnx[r] = sl;
        }
        const lnmx = new Float64Array(d);
        normalise(mx, lnmx);
        for (let r = 0; r < d; r++) {
          num += (lnmx[r] - mlnx[r]) ** 2;
          den += mlnx[r] ** 2;
        }
      }
      return Math.sqrt(num / den);
    });
    console.log(`| \`${value}\` | ${errs.map((e) => (e < 1e-3 ? e.toExponential(1) : e.toFixed(3))).join(' | ')} |`);
  });
}

function normalise(x: Float64Array, out: Float64Array): void {
  let mean = 0;
  for (const v of x) mean += v;
  mean /= x.length;
  let variance = 0;
  for (const v of x) variance += (v - mean) ** 2;
  variance /= x.length;
  const s = Math.sqrt(variance + 1e-5);
  for (let i = 0; i < x.length; i++) out[i] = (x[i] - mean) / s;
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
