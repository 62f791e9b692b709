import { InvalidArgumentError, tensor, UnsupportedError, type Graph, type MergeGraph, type Node } from '@zipit/core';
import { readVitLayout } from './layout.js';

/**
 * REPAIR (Jordan et al., 2022) for zipped ViTs, whose LayerNorm cannot be reset the way a
 * BatchNorm is: chosen activations of the merged model get a per-channel affine correction
 * y = x·a + b so that their mean and standard deviation over the merge data equal what the
 * models' aligned features would have — the "variance collapse" of averaging imperfectly
 * correlated features (an average of two features with correlation ρ has (1 + ρ)/2 of their
 * variance) undone channel by channel.
 *
 * Unlike core's REPAIR (stats/repair.ts: Conv/Gemm outputs, channels on axis 1, merges that
 * average members), the sites here are token activations with channels last, and the merge may
 * be any linear map (an orthogonal alignment mixes every channel): the target of merged channel
 * j is mean Σₖ (Mₖμₖ)ⱼ and standard deviation Σₖ √(MₖΣₖMₖᵀ)ⱼⱼ — the deviation the merged
 * feature would have if every model's contribution to it were perfectly correlated. For a
 * permutation or ZipIt! merge of single members this is REPAIR's merge-weighted average of the
 * source deviations.
 */

/**
 * - `stream`: the residual stream at every block boundary (a junction's input, see
 *   `prepareVit`) and the final LayerNorm's output;
 * - `mlp`: the MLP input layers' outputs (before the activation: the classic REPAIR site);
 * - `branch`: the attention output projections' and MLP output layers' outputs (what each block
 *   adds to the stream).
 */
export type VitRepairKind = 'stream' | 'mlp' | 'branch';

/** One activation to correct: channels on its last axis, in the space of merge point `point`. */
export interface VitRepairSite {
  value: string;
  point: number;
  channels: number;
  kind: VitRepairKind;
}

/**
 * The sites of the given kinds in the zipped trunk (points ≤ `stop`) of a prepared ViT (with
 * junctions), in graph order. `graph` is one source model or the zipped graph (shared values
 * keep the source names).
 */
export function vitRepairSites(graph: Graph, mergeGraph: MergeGraph, stop: number, kinds: readonly VitRepairKind[]): VitRepairSite[] {
  const r = readVitLayout(graph);
  if (!r.ok) throw new UnsupportedError(`not a ViT: ${r.reason}`);
  const layout = r.layout;
  if (!layout.blocks.every((b) => b.junction)) {
    throw new UnsupportedError('REPAIR of a ViT needs the stream cut at every block', { hint: 'prepare the model with prepareVit first' });
  }
  const candidates: { value: string; kind: VitRepairKind }[] = [];
  for (const b of layout.blocks) {
    candidates.push({ value: b.junction!.node.inputs[0], kind: 'stream' });
    candidates.push({ value: b.attn.output, kind: 'branch' }, { value: b.fc1.output, kind: 'mlp' }, { value: b.fc2.output, kind: 'branch' });
  }
  candidates.push({ value: layout.norm.output, kind: 'stream' });
  const pointOf = new Map<string, number>();
  for (const p of mergeGraph.points) for (const v of p.values) if (!pointOf.has(v.value)) pointOf.set(v.value, p.index);
  for (const p of mergeGraph.points) if (!pointOf.has(p.observe.value)) pointOf.set(p.observe.value, p.index);
  const sites: VitRepairSite[] = [];
  for (const c of candidates) {
    if (!kinds.includes(c.kind)) continue;
    const point = pointOf.get(c.value);
    if (point === undefined)
      throw new InvalidArgumentError(`REPAIR site "${c.value}" carries no merge point's channels`, { hint: 'use the merge graph of this model' });
    if (point > stop) continue;
    sites.push({ value: c.value, point, channels: mergeGraph.points[point].channels, kind: c.kind });
  }
  return sites;
}

/** Per-channel mean and standard deviation. */
export interface ChannelTarget {
  mean: Float64Array;
  std: Float64Array;
}

/**
 * Accumulates the target moments of one merged site from the source models' activations (float64
 * sums): `merge` [C, N·C] (model-major columns); `add(k, x)` takes model k's activations at the
 * site, channels last (any number of rows). The target of merged channel j has mean Σₖ (Mₖμₖ)ⱼ
 * and deviation Σₖ σ((Mₖxₖ)ⱼ) — each model's contribution projected, its deviations summed as if
 * the contributions were perfectly correlated.
 */
export class RepairTargetMoments {
  private readonly rows: { index: Int32Array; weight: Float64Array }[][] = [];
  private readonly sum: Float64Array[];
  private readonly sumSq: Float64Array[];
  private readonly count: number[];

  constructor(
    merge: Float32Array | Float64Array,
    readonly models: number,
    readonly channels: number,
  ) {
    const c = channels;
    if (merge.length !== c * models * c) throw new InvalidArgumentError(`a merge of ${merge.length} entries does not fit ${models} models × ${c} channels`);
    for (let k = 0; k < models; k++) {
      const perRow: { index: Int32Array; weight: Float64Array }[] = [];
      for (let j = 0; j < c; j++) {
        const index: number[] = [];
        const weight: number[] = [];
        for (let i = 0; i < c; i++) {
          const w = merge[j * models * c + k * c + i];
          if (w === 0) continue;
          index.push(i);
          weight.push(w);
        }
        perRow.push({ index: Int32Array.from(index), weight: Float64Array.from(weight) });
      }
      this.rows.push(perRow);
    }
    this.sum = Array.from({ length: models }, () => new Float64Array(c));
    this.sumSq = Array.from({ length: models }, () => new Float64Array(c));
    this.count = new Array(models).fill(0);
  }

  /** Model k's activations at the site: rows of `channels` values. */
  add(k: number, x: Float32Array | Float64Array): void {
    const c = this.channels;
    if (x.length % c !== 0) throw new InvalidArgumentError(`${x.length} values are not rows of ${c} channels`);
    const rows = this.rows[k];
    const sum = this.sum[k];
    const sumSq = this.sumSq[k];
    for (let r = 0; r < x.length; r += c) {
      for (let j = 0; j < c; j++) {
        const { index, weight } = rows[j];
        let z = 0;
        for (let e = 0; e < index.length; e++) z += weight[e] * x[r + index[e]];
        sum[j] += z;
        sumSq[j] += z * z;
      }
    }
    this.count[k] += x.length / c;
  }

  target(): ChannelTarget {
    const c = this.channels;
    const mean = new Float64Array(c);
    const std = new Float64Array(c);
    for (let k = 0; k < this.models; k++) {
      const n = this.count[k];
      if (n === 0) throw new InvalidArgumentError(`no activations of model ${k} were seen`);
      for (let j = 0; j < c; j++) {
        const m = this.sum[k][j] / n;
        mean[j] += m;
        std[j] += Math.sqrt(Math.max(0, this.sumSq[k][j] / n - m * m));
      }
    }
    return { mean, std };
  }
}

/** An accumulator of plain per-channel moments (channels last): one model, identity merge. */
export function channelMomentsAccumulator(channels: number): RepairTargetMoments {
  const m = new Float64Array(channels * channels);
  for (let i = 0; i < channels; i++) m[i * channels + i] = 1;
  return new RepairTargetMoments(m, 1, channels);
}

/**
 * The affine y = x·a + b that moves measured moments onto a target: a = σ_t/σ (1 where the
 * channel does not vary), b = μ_t − μ·a.
 */
export function channelAffine(measured: ChannelTarget, target: ChannelTarget): { scale: Float32Array; shift: Float32Array } {
  const c = measured.mean.length;
  const scale = new Float32Array(c);
  const shift = new Float32Array(c);
  for (let j = 0; j < c; j++) {
    const a = measured.std[j] > 0 ? target.std[j] / measured.std[j] : 1;
    scale[j] = a;
    shift[j] = target.mean[j] - measured.mean[j] * a;
  }
  return { scale, shift };
}

/**
 * `graph` with y = value·scale + shift (channels last, [C] each) inserted right after the node
 * writing `value`; every reader of `value` reads y instead. Names: `<value>/repair/…`.
 */
export function insertChannelAffine(graph: Graph, value: string, scale: Float32Array, shift: Float32Array): Graph {
  const at = graph.nodes.findIndex((n) => n.outputs.includes(value));
  if (at < 0) throw new InvalidArgumentError(`no node writes "${value}"`);
  if (graph.outputs.some((o) => o.name === value)) throw new UnsupportedError(`cannot correct "${value}": it is a graph output`);
  const p = `${value}/repair`;
  if (graph.initializers.has(`${p}/scale`)) throw new InvalidArgumentError(`"${value}" is corrected already`);
  const initializers = new Map(graph.initializers);
  initializers.set(`${p}/scale`, tensor('float32', [scale.length], scale));
  initializers.set(`${p}/shift`, tensor('float32', [shift.length], shift));
  const out = `${p}/output`;
  const added: Node[] = [
    { name: `${p}/Mul`, opType: 'Mul', domain: '', inputs: [value, `${p}/scale`], outputs: [`${p}/scaled`], attributes: [] },
    { name: `${p}/Add`, opType: 'Add', domain: '', inputs: [`${p}/scaled`, `${p}/shift`], outputs: [out], attributes: [] },
  ];
  const rewired = graph.nodes.map((n) => (n.inputs.includes(value) ? { ...n, inputs: n.inputs.map((i) => (i === value ? out : i)) } : n));
  rewired.splice(at + 1, 0, ...added);
  return { ...graph, nodes: rewired, initializers };
}

/**
 * An attention layer whose logits' scale to restore: averaging Q and K of imperfectly aligned
 * heads shrinks q·k (each factor keeps about (1 + ρ)/2 of its variance), which flattens the
 * softmax — a temperature change. Scaling Q's output channels (`q`, channels
 * [offset, offset + channels) of a layer writing `outChannels`) by τ scales the logits by τ.
 */
export interface VitTemperatureSite {
  block: number;
  /** The Softmax input: logits with keys on the last axis. */
  logits: string;
  q: string;
  offset: number;
  channels: number;
  outChannels: number;
}

/** The attention layers of the zipped trunk (their Q·Kᵀ point ≤ `stop`) of a ViT, in graph order. */
export function vitTemperatureSites(graph: Graph, mergeGraph: MergeGraph, stop: number): VitTemperatureSite[] {
  const r = readVitLayout(graph);
  if (!r.ok) throw new UnsupportedError(`not a ViT: ${r.reason}`);
  const index = new Map(mergeGraph.points.map((p) => [p.name, p.index]));
  return r.layout.blocks.flatMap((b, block) => {
    const a = b.attn;
    const point = index.get(`${a.module}:qk`);
    if (point === undefined) throw new InvalidArgumentError(`the merge graph has no point "${a.module}:qk"`, { hint: 'use the merge graph of this model' });
    if (point > stop) return [];
    return [
      { block, logits: a.softmax.inputs[0], q: a.q.linear.output, offset: a.q.offset, channels: a.heads * a.qkHeadDim, outChannels: a.q.linear.outChannels },
    ];
  });
}

/** Sum of the standard deviations of the rows (last axis, length `keys`) of logits, and the row count. */
export function logitRowDeviation(x: Float32Array | Float64Array, keys: number): { sum: number; rows: number } {
  let sum = 0;
  for (let r = 0; r < x.length; r += keys) {
    let m = 0;
    for (let i = 0; i < keys; i++) m += x[r + i];
    m /= keys;
    let v = 0;
    for (let i = 0; i < keys; i++) v += (x[r + i] - m) ** 2;
    sum += Math.sqrt(v / keys);
  }
  return { sum, rows: x.length / keys };
}
