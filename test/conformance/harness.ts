import { expect } from 'vitest';
import { builtinArchitectures } from '@zipit/cli';
import {
  consumers, defaultMatcherRegistry, tensor, zipGraphs, SeededRandom,
  type Architecture, type FeatureStats, type Graph, type MatcherParams, type MergeGraph, type Node, type PointTransform, type ReferenceModel,
  type StopAt, type Tensor,
} from '@zipit/core';
import { ModelSession, ortExecutor as executor } from '@zipit/runtime-ort';
import { collectStatistics, resetBatchNorm } from '@zipit/pipeline';

/**
 * The shared machinery of the conformance suite: every reference model of every architecture
 * plugin the CLI registers, with BatchNorm kept and folded, and the few operations the
 * invariants are stated in (run in onnxruntime, collect statistics, match, zip, permute).
 */

export interface ConformanceCase {
  /** e.g. `resnet/resnet20-w1, BN kept`. */
  title: string;
  arch: Architecture;
  reference: ReferenceModel;
  foldedBatchNorm: boolean;
}

/** Every plugin × reference × {BN kept, BN folded}, in registry order. */
/**
 * Plugins whose invariants need head-aware permutations and shared transforms (attention): they
 * run the same checks in their own suite (packages/arch-vit/src/conformance.test.ts).
 */
const OWN_SUITE = new Set(['vit']);

export const CASES: ConformanceCase[] = builtinArchitectures()
  .list()
  .filter((arch) => !OWN_SUITE.has(arch.name))
  .flatMap((arch) =>
    arch.references.flatMap((reference) =>
      [false, true].map((foldedBatchNorm) => ({
        title: `${arch.name}/${reference.name}, BN ${foldedBatchNorm ? 'folded' : 'kept'}`,
        arch,
        reference,
        foldedBatchNorm,
      })),
    ),
  );

/** Images per statistics pass and per evaluation (the same images: see `images`). */
export const IMAGES = 32;

/** Logit tolerance of every "equals A" invariant. */
export const TOLERANCE = 1e-4;

export const MATCHERS = defaultMatcherRegistry().list();

/**
 * Reference model `seed` of a case with `classes` outputs, calibrated on random images (see
 * {@link calibrate}) so that its activations have the scale of a trained network's, then
 * passed through the plugin's `prepare` rewrite when it has one (as every caller must).
 */
export async function model(c: ConformanceCase, seed: number, classes = 10): Promise<Graph> {
  const g = await calibrate(c.reference.build({ seed, classes, foldedBatchNorm: c.foldedBatchNorm }), images(c, 1000 + seed));
  return c.arch.prepare ? c.arch.prepare(g) : g;
}

/**
 * Data-dependent initialisation: every BatchNormalization gets the statistics of its input on
 * `feeds` (one train-mode pass in onnxruntime); a Conv with no BatchNorm after it (BN folded)
 * gets a temporary one, calibrated the same way and folded back into its weight and bias, so
 * the graph keeps its structure and names. Random-init weights with random BatchNorm statistics
 * otherwise let activations grow layer after layer (logits in the thousands for a ResNet-50,
 * channels that never fire), which no trained model looks like.
 */
export async function calibrate(g: Graph, feeds: Record<string, Tensor>): Promise<Graph> {
  const readers = consumers(g);
  const rng = new SeededRandom(5);
  const inits = new Map(g.initializers);
  const nodes: Node[] = [];
  const temporary: { conv: Node; bn: Node }[] = [];
  for (const node of g.nodes) {
    const rs = node.opType === 'Conv' ? readers.get(node.outputs[0]) ?? [] : [];
    if (node.opType !== 'Conv' || (rs.length === 1 && rs[0].opType === 'BatchNormalization')) {
      nodes.push(node);
      continue;
    }
    const c = g.initializers.get(node.inputs[1])!.shape[0];
    const pre = `${node.outputs[0]}/uncalibrated`;
    const p = `${node.name}/calibration`;
    const params = [
      [`${p}.weight`, rng.uniformTensor([c], 0.5, 1.5)],
      [`${p}.bias`, rng.normalTensor([c], 0.1)],
      [`${p}.running_mean`, tensor('float32', [c], new Float32Array(c))],
      [`${p}.running_var`, tensor('float32', [c], new Float32Array(c).fill(1))],
    ] as const;
    for (const [name, t] of params) inits.set(name, t);
    const bn: Node = {
      name: `${p}/BatchNormalization`, opType: 'BatchNormalization', domain: '', inputs: [pre, ...params.map(([name]) => name)],
      outputs: [node.outputs[0]], attributes: [{ name: 'epsilon', value: { type: 'float', value: 1e-5 } }],
    };
    nodes.push({ ...node, outputs: [pre, ...node.outputs.slice(1)] }, bn);
    temporary.push({ conv: node, bn });
  }
  const [x] = Object.values(feeds);
  const reset = (await resetBatchNorm({ ...g, nodes, initializers: inits }, [{ x: x as Tensor<'float32'> }], { executor, threads: 1 })).graph;
  if (temporary.length === 0) return reset;
  const out = new Map(g.initializers);
  for (const [name, t] of reset.initializers) if (out.has(name)) out.set(name, t);
  for (const { conv, bn } of temporary) {
    const [gamma, beta, mean, variance] = bn.inputs.slice(1).map((n) => reset.initializers.get(n)!.data as Float32Array);
    const w = out.get(conv.inputs[1])!;
    const c = w.shape[0];
    const per = w.data.length / c;
    const scale = gamma.map((gm, o) => gm / Math.sqrt(variance[o] + 1e-5));
    const wd = Float32Array.from(w.data as Float32Array, (v, i) => v * scale[Math.floor(i / per)]);
    out.set(conv.inputs[1], tensor('float32', w.shape, wd));
    const b = conv.inputs[2] ? (out.get(conv.inputs[2])!.data as Float32Array) : new Float32Array(c);
    if (!conv.inputs[2]) throw new Error(`calibrate: Conv ${conv.name} without BatchNorm has no bias to fold into`);
    out.set(conv.inputs[2], tensor('float32', [c], b.map((v, o) => (v - mean[o]) * scale[o] + beta[o])));
  }
  return { ...g, initializers: out };
}

/**
 * Seeded standard-normal images for the case's input. Statistics and evaluation use the same
 * images: a channel that is dead (always zero) on the data correlates with nothing, so a
 * matcher may pair it with any other dead channel — equal on these images, not elsewhere.
 */
export function images(c: ConformanceCase, seed = 7): Record<string, Tensor> {
  const shape = c.reference.input.shape.map((d) => (typeof d === 'number' ? d : IMAGES));
  return { [c.reference.input.name]: new SeededRandom(seed).normalTensor(shape) };
}

/** Runs a graph once in onnxruntime (one thread) and returns every output. */
export async function run(graph: Graph, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const session = await ModelSession.create(graph, { threads: 1 });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/** Float32 data of one output. */
export function data(out: Record<string, Tensor>, name: string): Float32Array {
  const t = out[name];
  if (!t) throw new Error(`no output "${name}" (outputs: ${Object.keys(out).join(', ')})`);
  return t.data as Float32Array;
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Statistics of every merge point of the models on the images, collected inside onnxruntime. */
export async function statistics(models: readonly Graph[], mg: MergeGraph, feeds: Record<string, Tensor>): Promise<FeatureStats> {
  const spaces = mg.points.map((p) => ({ name: p.name, values: models.map(() => p.observe.value), axis: p.observe.axis }));
  const [x] = Object.values(feeds);
  return collectStatistics(models, spaces, [{ x: x as Tensor<'float32'> }], { executor, threads: 1 });
}

/** A matcher's transform for every merge point. */
export function match(stats: FeatureStats, mg: MergeGraph, numModels: number, matcher: string, params?: MatcherParams): PointTransform[] {
  const m = defaultMatcherRegistry().get(matcher);
  return mg.points.map((p) => {
    const r = m.match(stats.covariance(p.index), numModels, params);
    return { merge: exactAverages(r.merge, p.channels), unmerge: r.unmerge };
  });
}

/**
 * Merge rows rescaled to sum to exactly 1. Matchers follow the reference and divide by
 * (members + 1e-5), which scales every zipped layer by 1 − 5·10⁻⁶ for a pair; through the
 * 20–50 layers of these models that compounds to ~10⁻⁴ of the logits by itself (BatchNorm
 * re-estimation removes it in a real merge), which would hide what these invariants check.
 */
export function exactAverages(merge: Float32Array, channels: number): Float32Array {
  const width = merge.length / channels;
  const out = new Float32Array(merge.length);
  for (let g = 0; g < channels; g++) {
    let sum = 0;
    for (let r = 0; r < width; r++) sum += merge[g * width + r];
    for (let r = 0; r < width; r++) out[g * width + r] = merge[g * width + r] / sum;
  }
  return out;
}

/** Zips and runs; returns each model's logits (`model<k>:<output>`). */
export async function zipAndRun(
  models: readonly Graph[], mg: MergeGraph, transforms: readonly PointTransform[], stopAt: StopAt, feeds: Record<string, Tensor>,
): Promise<Record<string, Tensor>> {
  const { graph } = zipGraphs(models, { mergeGraph: mg, transforms, stopAt });
  return run(graph, feeds);
}

/** A seeded random permutation of 0…c−1. */
export function permutation(c: number, rng: SeededRandom): Int32Array {
  const p = Int32Array.from({ length: c }, (_, i) => i);
  for (let i = c - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/**
 * The channel of model k that each merged feature takes, when the unmerge [N·C, C] is a
 * one-to-one matching (every merged feature has exactly one channel of each model); else null.
 */
export function pairing(unmerge: ArrayLike<number>, numModels: number, c: number, k: number): Int32Array | null {
  const of = new Int32Array(c).fill(-1);
  for (let i = 0; i < c; i++) {
    for (let f = 0; f < c; f++) {
      const u = unmerge[(k * c + i) * c + f];
      if (u === 0) continue;
      if (u !== 1 || of[f] !== -1) return null;
      of[f] = i;
    }
  }
  return of.every((i) => i >= 0) ? of : null;
}
