import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { foldNormAffine, matchVit, prepareVit, vitArch, vitRepairSites, vitTemperatureSites, type VitMatchOptions, type VitRepairKind } from '@zipit/arch-vit';
import {
  defaultMatcherRegistry,
  getPointMatcher,
  inlineParameters,
  matchMergeGraph,
  zipGraphs,
  type FeatureStats,
  type Graph,
  type MatchResult,
  type MergeGraph,
} from '@zipit/core';
import { openDataset } from '@zipit/data';
import { readOnnxFile } from '@zipit/io-onnx/node';
import {
  computeStatistics,
  ensembleGraph,
  evaluateTasks,
  refitLayers,
  refitPlan,
  type Batch,
  type ModelInput,
  type RefitOptions,
  type TaskData,
} from '@zipit/pipeline';
import { ortExecutor as executor } from '@zipit/runtime-ort';
import { repairVit, restoreTemperature } from './vit-repair.js';

/**
 * `pnpm --filter @zipit/bench bench:vit-ablation [--pair timm|tv|fixture] [--images N] [--test N]`:
 * the ablation table of issue 13 — ViT pairs trained apart (fixtures/vit-torch: a timm-style pair
 * on Fashion-MNIST 0–4 / 5–9 for tuning, a torchvision pair on MNIST held out for the final check;
 * `fixture`: the tfjs pair of fixtures/models) merged by every variant, zipped up to every stop
 * point, joint accuracy on the tasks' test splits (first N images of each; default all). No
 * REPAIR (ViTs have no BatchNorm; LayerNorm is handled by the variants themselves).
 *
 * Variants: the baselines (`permute`, `zipit` on every point), LayerNorm gains folded into the
 * readers (`fold LN`), and one matcher per kind of point through `matchVit`: orthogonal alignment
 * (Procrustes, R·1 = 1) of the stream — exact under folded LayerNorm — and of the heads
 * (rotation-invariant q·k and values), with permute or ZipIt! on the MLP hidden units (GELU).
 * Second round (issue 13, the ideas not measured before): REPAIR of merged activations
 * (vit-repair.ts: stream, fc1 or branch outputs), attention temperature, MuDSC-style weight
 * similarity for the MLP units, ZipIt! α/β, heads zipped as units (`zipHeads`), per-segment
 * stream rotations, CCA-like (correlation) alignment, and a least-squares refit of the zipped
 * layers (@zipit/pipeline's refitLayers). `--only i,j` picks variants by their index in VARIANTS.
 */
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

const PAIRS: Record<string, { files: [string, string]; dataset: string }> = {
  timm: { files: ['fixtures/vit-torch/timm_fashion_0-4.onnx', 'fixtures/vit-torch/timm_fashion_5-9.onnx'], dataset: 'fashion' },
  tv: { files: ['fixtures/vit-torch/tv_mnist_0-4.onnx', 'fixtures/vit-torch/tv_mnist_5-9.onnx'], dataset: 'mnist' },
  fixture: { files: ['fixtures/models/vit_mnist_0-4.onnx', 'fixtures/models/vit_mnist_5-9.onnx'], dataset: 'mnist' },
};

interface Variant {
  title: string;
  folded: boolean;
  /** REPAIR of the merged model at these kinds of sites (vit-repair.ts). */
  repair?: VitRepairKind[];
  /** Restore every zipped attention layer's logit scale (vit-repair.ts). */
  temperature?: boolean;
  /** Least-squares refit of the zipped layers (@zipit/pipeline's refitLayers). */
  refit?: RefitOptions;
  match(mg: MergeGraph, stats: FeatureStats, graphs: readonly Graph[]): (MatchResult | undefined)[];
}

const registry = defaultMatcherRegistry();
const m = (name: string) => getPointMatcher(registry, name);

function everyPoint(method: string): Variant['match'] {
  return (mg, stats) => matchMergeGraph(mg, (i) => stats.covariance(i), 2, m(method), undefined, { alignBlocks: true });
}

function perKind(opts: Omit<VitMatchOptions, 'upTo'>, lambda?: number): Variant['match'] {
  return (mg, stats, graphs) => matchVit(mg, (i) => stats.covariance(i), 2, lambda === undefined ? opts : { ...opts, mlpWeights: { graphs, lambda } });
}

const orth = { matcher: m('orthogonal') };
const VARIANTS: Variant[] = [
  { title: 'permute', folded: false, match: everyPoint('permute') },
  { title: 'zipit', folded: false, match: everyPoint('zipit') },
  { title: 'permute, fold LN', folded: true, match: everyPoint('permute') },
  { title: 'zipit, fold LN', folded: true, match: everyPoint('zipit') },
  {
    title: 'fold LN; stream orthogonal; heads, MLP permute',
    folded: true,
    match: perKind({ stream: orth, attention: { matcher: m('permute') }, mlp: { matcher: m('permute') } }),
  },
  { title: 'fold LN; stream, heads orthogonal; MLP permute', folded: true, match: perKind({ stream: orth, attention: orth, mlp: { matcher: m('permute') } }) },
  { title: 'fold LN; stream, heads orthogonal; MLP zipit', folded: true, match: perKind({ stream: orth, attention: orth, mlp: { matcher: m('zipit') } }) },
  {
    title: 'fold LN; stream orthogonal; heads, MLP zipit',
    folded: true,
    match: perKind({ stream: orth, attention: { matcher: m('zipit') }, mlp: { matcher: m('zipit') } }),
  },
  {
    title: 'stream orthogonal (LN not folded); heads, MLP zipit',
    folded: false,
    match: perKind({ stream: orth, attention: { matcher: m('zipit') }, mlp: { matcher: m('zipit') } }),
  },
  {
    title: 'fold LN; stream orthogonal without R·1 = 1; heads, MLP zipit',
    folded: true,
    match: perKind({ stream: { matcher: m('orthogonal'), params: { fixMean: 0 } }, attention: { matcher: m('zipit') }, mlp: { matcher: m('zipit') } }),
  },
  {
    title: 'fold LN; stream orthogonal; heads orthogonal then zipit; MLP zipit',
    folded: true,
    match: perKind({ stream: orth, attention: { matcher: m('orthogonal'), params: { zip: 1 } }, mlp: { matcher: m('zipit') } }),
  },
  {
    title: 'fold LN; stream orthogonal (correlations averaged); heads orthogonal; MLP zipit',
    folded: true,
    match: perKind({ stream: orth, streamPool: 'correlation', attention: orth, mlp: { matcher: m('zipit') } }),
  },
  {
    title: 'fold LN; stream orthogonal then zipit; heads orthogonal; MLP zipit',
    folded: true,
    match: perKind({ stream: { matcher: m('orthogonal'), params: { zip: 1 } }, attention: orth, mlp: { matcher: m('zipit') } }),
  },
  ...(['stream', 'mlp', 'branch'] as const).flatMap((kind): Variant[] => [
    { title: `permute; REPAIR ${kind}`, folded: false, repair: [kind], match: everyPoint('permute') },
    { title: `zipit; REPAIR ${kind}`, folded: false, repair: [kind], match: everyPoint('zipit') },
    {
      title: `fold LN; stream, heads orthogonal; MLP zipit; REPAIR ${kind}`,
      folded: true,
      repair: [kind],
      match: perKind({ stream: orth, attention: orth, mlp: { matcher: m('zipit') } }),
    },
  ]),
  ...[
    [0.1, 1],
    [0.3, 1],
    [1, 1],
    [0.5, 0],
    [0.5, 0.5],
    [0.5, 2],
  ].map(
    ([alpha, beta]): Variant => ({
      title: `fold LN; stream, heads orthogonal; MLP zipit α = ${alpha}, β = ${beta}`,
      folded: true,
      match: perKind({ stream: orth, attention: orth, mlp: { matcher: m('zipit'), params: { alpha, beta } } }),
    }),
  ),
  ...[0.1, 0.25, 0.5, 1].map(
    (lambda): Variant => ({
      title: `fold LN; stream, heads orthogonal; MLP zipit on correlation + weight similarity, λ = ${lambda}`,
      folded: true,
      match: perKind({ stream: orth, attention: orth, mlp: { matcher: m('zipit') } }, lambda),
    }),
  ),
  { title: 'permute; attention temperature', folded: false, temperature: true, match: everyPoint('permute') },
  { title: 'zipit; attention temperature', folded: false, temperature: true, match: everyPoint('zipit') },
  {
    title: 'fold LN; stream, heads orthogonal; MLP zipit; attention temperature',
    folded: true,
    temperature: true,
    match: perKind({ stream: orth, attention: orth, mlp: { matcher: m('zipit') } }),
  },
  {
    title: 'fold LN; stream orthogonal per segment; heads orthogonal; MLP zipit',
    folded: true,
    match: perKind({ stream: orth, streamPool: 'separate', attention: orth, mlp: { matcher: m('zipit') } }),
  },
  ...[
    [0.5, 1],
    [0.5, 0],
    [0.1, 2],
  ].map(
    ([alpha, beta]): Variant => ({
      title: `fold LN; stream orthogonal; heads zipped as units (within and across models, α = ${alpha}, β = ${beta}); MLP zipit`,
      folded: true,
      match: perKind({ stream: orth, attention: orth, headZip: { matcher: m('zipit'), params: { alpha, beta } }, mlp: { matcher: m('zipit') } }),
    }),
  ),
  {
    title: 'fold LN; stream orthogonal; heads zipped as units; MLP zipit; REPAIR mlp',
    folded: true,
    repair: ['mlp'],
    match: perKind({ stream: orth, attention: orth, headZip: { matcher: m('zipit') }, mlp: { matcher: m('zipit') } }),
  },
  {
    title: 'fold LN; stream orthogonal; heads zipped as units; MLP zipit; attention temperature',
    folded: true,
    temperature: true,
    match: perKind({ stream: orth, attention: orth, headZip: { matcher: m('zipit') }, mlp: { matcher: m('zipit') } }),
  },
  {
    title: 'fold LN; stream orthogonal; heads zipped as units; MLP zipit on correlation + weight similarity, λ = 0.1',
    folded: true,
    match: perKind({ stream: orth, attention: orth, headZip: { matcher: m('zipit') }, mlp: { matcher: m('zipit') } }, 0.1),
  },
  {
    title: 'fold LN; stream orthogonal on correlations; heads orthogonal; MLP zipit',
    folded: true,
    match: perKind({ stream: { matcher: m('orthogonal'), params: { correlation: 1 } }, attention: orth, mlp: { matcher: m('zipit') } }),
  },
  {
    title: 'fold LN; stream orthogonal; heads orthogonal on correlations; MLP zipit',
    folded: true,
    match: perKind({ stream: orth, attention: { matcher: m('orthogonal'), params: { correlation: 1 } }, mlp: { matcher: m('zipit') } }),
  },
  ...[
    ['permute', false, everyPoint('permute')],
    ['zipit', false, everyPoint('zipit')],
    ['fold LN; stream, heads orthogonal; MLP zipit', true, perKind({ stream: orth, attention: orth, mlp: { matcher: m('zipit') } })],
  ].flatMap(([title, folded, match]) =>
    [1e-3, 1e-1].map(
      (ridge): Variant => ({
        title: `${title}; least-squares refit (ridge ${ridge})`,
        folded: folded as boolean,
        refit: { ridge },
        match: match as Variant['match'],
      }),
    ),
  ),
  {
    title: 'fold LN; stream, heads orthogonal; MLP zipit; least-squares refit (ridge 1)',
    folded: true,
    refit: { ridge: 1 },
    match: perKind({ stream: orth, attention: orth, mlp: { matcher: m('zipit') } }),
  },
  {
    title: 'fold LN; stream, heads orthogonal; MLP zipit; least-squares refit (ridge 0.1), heads refitted too',
    folded: true,
    refit: { ridge: 0.1, heads: true },
    match: perKind({ stream: orth, attention: orth, mlp: { matcher: m('zipit') } }),
  },
  ...(
    [
      [1e-3, false],
      [1e-4, false],
      [1e-3, true],
    ] as const
  ).map(
    ([ridge, heads]): Variant => ({
      title: `fold LN; stream orthogonal; heads zipped as units; MLP zipit; least-squares refit (ridge ${ridge})${heads ? ', heads refitted too' : ''}`,
      folded: true,
      refit: { ridge, heads },
      match: perKind({ stream: orth, attention: orth, headZip: { matcher: m('zipit') }, mlp: { matcher: m('zipit') } }),
    }),
  ),
  ...[
    ['permute', false, everyPoint('permute')],
    ['zipit', false, everyPoint('zipit')],
    ['fold LN; stream, heads orthogonal; MLP zipit', true, perKind({ stream: orth, attention: orth, mlp: { matcher: m('zipit') } })],
  ].map(
    ([title, folded, match]): Variant => ({
      title: `${title}; least-squares refit (ridge 0.001), heads refitted too`,
      folded: folded as boolean,
      refit: { ridge: 1e-3, heads: true },
      match: match as Variant['match'],
    }),
  ),
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pair: { type: 'string', default: 'timm' },
      images: { type: 'string', default: '1000' },
      test: { type: 'string' },
      threads: { type: 'string', default: '1' },
      only: { type: 'string' },
    },
  });
  const pair = PAIRS[values.pair!];
  if (!pair) throw new Error(`--pair must be one of ${Object.keys(PAIRS).join(', ')}`);
  const images = Number(values.images);
  const testLimit = values.test === undefined ? undefined : Number(values.test);
  const threads = Number(values.threads);
  const variants = values.only ? VARIANTS.filter((_, i) => values.only!.split(',').map(Number).includes(i)) : VARIANTS;

  const raw = await Promise.all(pair.files.map(async (f) => prepareVit(inlineParameters(await readOnnxFile(join(REPO, f))))));
  const names = ['A', 'B'];
  const plain: ModelInput[] = raw.map((graph, k) => ({ name: names[k], graph, file: pair.files[k] }));
  const folded: ModelInput[] = raw.map((graph, k) => ({ name: names[k], graph: foldNormAffine(graph), file: pair.files[k] }));
  const input = raw[0].inputs[0];
  const merge: Batch[] = [];
  for await (const b of (await openDataset(pair.dataset, { defaultSplit: 'train', input })).batches({ batchSize: 100, limit: images })) merge.push(b);
  const tasks: TaskData[] = await Promise.all(
    [`${pair.dataset}:0-4`, `${pair.dataset}:5-9`].map(async (spec, k) => {
      const test: Batch[] = [];
      for await (const b of (await openDataset(spec, { defaultSplit: 'test', input })).batches({ batchSize: 250, limit: testLimit })) test.push(b);
      return { name: spec, output: `${names[k]}:${raw[k].outputs[0].name}`, data: () => test };
    }),
  );
  const mg = vitArch.mergeGraph(plain[0].graph);
  const stops = mg.points.filter((p) => p.stopPoint).map((p) => p.index);
  const stats = new Map<boolean, FeatureStats>();
  for (const f of [false, true]) stats.set(f, await computeStatistics(f ? folded : plain, mg, merge, { executor, threads }));

  const evaluate = async (graph: Graph) => evaluateTasks(graph, tasks, { executor, threads });
  const ens = await evaluate(ensembleGraph(plain, mg).graph);
  const pct = (v: number) => (100 * v).toFixed(1);
  console.error(`ensemble joint ${pct(ens.joint)} (per task ${ens.perTask.map(pct).join(' / ')})`);
  const rows: string[] = [];
  for (const v of variants) {
    const models = v.folded ? folded : plain;
    const results = v.match(
      mg,
      stats.get(v.folded)!,
      models.map((x) => x.graph),
    );
    const transforms = results.map((r) => (r ? { merge: r.merge, unmerge: r.unmerge } : undefined));
    const cells: string[] = [];
    for (const stop of stops) {
      const { graph: zipped } = zipGraphs(
        models.map((x) => x.graph),
        { mergeGraph: mg, transforms, stopAt: stop, modelNames: names },
      );
      const sources = models.map((x) => x.graph);
      const repaired = v.repair
        ? await repairVit(zipped, sources, vitRepairSites(sources[0], mg, stop, v.repair), (p) => transforms[p]!.merge, merge, { executor, threads })
        : zipped;
      const tempered = v.temperature
        ? await restoreTemperature(repaired, sources, vitTemperatureSites(sources[0], mg, stop), merge, { executor, threads })
        : repaired;
      const graph = v.refit
        ? (await refitLayers(tempered, sources, names, mg, transforms, stop, refitPlan(vitArch, sources[0]), () => merge, { executor, threads }, v.refit)).graph
        : tempered;
      const r = await evaluate(graph);
      cells.push(pct(r.joint));
      console.error(`${v.title.padEnd(80)} ${mg.points[stop].name.padEnd(18)} joint ${pct(r.joint)}  avg ${pct(r.average)}`);
    }
    rows.push(`| ${v.title} | ${cells.join(' | ')} |`);
  }
  console.log(
    `\n${values.pair} pair (${pair.files.join(', ')}): merge data ${merge.reduce((n, b) => n + b.x.shape[0], 0)} ${pair.dataset} train images (all classes); test ${tasks.map((t) => t.name).join(' + ')}${testLimit ? `, first ${testLimit} of each` : ''}.`,
  );
  console.log(`ensemble: joint ${pct(ens.joint)}, per task ${ens.perTask.map(pct).join(' / ')}\n`);
  console.log(`| variant (joint %, zipped up to →) | ${stops.map((s) => mg.points[s].name).join(' | ')} |`);
  console.log(`|---|${stops.map(() => '---|').join('')}`);
  for (const r of rows) console.log(r);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
