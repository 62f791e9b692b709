import { InvalidArgumentError } from '../errors.js';
import { intAttr, opsetVersion, type Graph, type Node } from '../graph/graph.js';
import { inferShapes } from '../graph/infer-shapes.js';
import type { OperatorRegistry } from '../ops/registry.js';
import { appendChannelMoments, momentValueInfos, type GraphSink } from './channel-moments.js';
import { tensor, type Tensor } from '../tensor/tensor.js';
import type { MergeGraph } from '../merge/merge-graph.js';

/**
 * REPAIR (Jordan et al., 2022) for zipped models without BatchNorm (BatchNorm folded into the
 * convolutions at export): every zipped layer's output channels are renormalised so that their
 * mean and standard deviation over the data equal the merge-weighted average of the source
 * channels they came from — what a BatchNorm reset does for models that kept their BatchNorm.
 *
 * Mechanics, one pass of the merged model after one pass of each source model: in
 * `repairStatsGraph` each site's raw output x is normalised batch by batch to that batch's
 * target, y = (x − μ_b)·σ_t,b/σ_b + μ_t,b, where μ_t,b and σ_t,b are the merge-weighted source
 * moments *of the same batch* (fed as inputs); later sites so see corrected inputs, as in
 * Jordan et al.'s train-mode reset. The corrections folded into the layers are the pooled
 * ones, x ↦ (x − μ̄)·σ̄_t/σ̄ + μ̄_t. Because targets and merged moments are measured alike
 * (same batches, same estimator), a model merged with itself comes back exactly: every ratio
 * is 1 and every shift 0 — also where the reference's 1/(k + 1e-5) merge weights shrink the
 * merged layers by 5·10⁻⁶ each (the correction absorbs it). A BatchNorm-style estimate
 * (γ/√(var + ε) with the mean of unbiased batch variances, normalising each batch to the
 * *pooled* target) is not the identity on a self-merge: that moved logits by 1–2 %.
 */

/** A layer output to correct: the node writing a zipped point's channels, before its activation. */
export interface RepairSite {
  node: string;
  /** The node's output value (pre-activation channels). */
  value: string;
  /** The merge point whose channels the node writes. */
  point: number;
  channels: number;
}

/** The layers (Conv, Gemm) that write zipped points (index ≤ stop) and carry a bias or can take one. */
export function repairSites(mergeGraph: MergeGraph, graph: Graph, stop: number): RepairSite[] {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const sites: RepairSite[] = [];
  const seen = new Set<string>();
  for (const p of mergeGraph.points) {
    if (p.index > stop) continue;
    for (const ref of p.producers) {
      const node = byName.get(ref.node);
      if (!node || seen.has(node.name) || ref.param !== node.inputs[1] || (ref.offset ?? 0) !== 0) continue;
      if (node.opType !== 'Conv' && !(node.opType === 'Gemm' && intAttr(node, 'transB', 0) === 1)) continue;
      if (intAttr(node, 'group', 1) !== 1) continue;
      seen.add(node.name);
      sites.push({ node: node.name, value: node.outputs[0], point: p.index, channels: p.channels });
    }
  }
  return sites;
}

/** Target per-channel mean and standard deviation of one site. */
export interface RepairTarget {
  mean: Float64Array;
  std: Float64Array;
}

/** A merge matrix [C, O] as normalised sparse rows: merged channel j averages sources index[k] with weight[k], k ∈ [start[j], start[j+1]). */
export interface RepairWeights {
  channels: number;
  sources: number;
  start: Int32Array;
  index: Int32Array;
  weight: Float64Array;
}

/**
 * The merge rows normalised to sum 1 (the reference's rows sum to k/(k + 1e-5)), sparse.
 * A row without members keeps target mean 0 and σ 1.
 */
export function repairWeights(merge: Float32Array | Float64Array, channels: number, sources: number): RepairWeights {
  if (merge.length !== channels * sources) throw new InvalidArgumentError(`merge matrix of ${merge.length} entries does not fit ${channels} × ${sources}`);
  const start = new Int32Array(channels + 1);
  const index: number[] = [];
  const weight: number[] = [];
  for (let j = 0; j < channels; j++) {
    let w = 0;
    for (let r = 0; r < sources; r++) w += merge[j * sources + r];
    for (let r = 0; r < sources; r++) {
      const a = merge[j * sources + r];
      if (a === 0 || !(w > 0)) continue;
      index.push(r);
      weight.push(a / w);
    }
    start[j + 1] = index.length;
  }
  return { channels, sources, start, index: Int32Array.from(index), weight: Float64Array.from(weight) };
}

/**
 * Targets from the source models' channel statistics (stacked, model-major): for merged
 * channel j, μ_t = Σ_r w[j, r] μ_r and σ_t = Σ_r w[j, r] σ_r. Float64; a pair of equal sources
 * gives exactly their value.
 */
export function repairTarget(w: RepairWeights, sourceMean: ArrayLike<number>, sourceStd: ArrayLike<number>): RepairTarget {
  if (sourceMean.length !== w.sources || sourceStd.length !== w.sources) {
    throw new InvalidArgumentError(`source statistics of ${sourceMean.length} channels do not fit a merge of ${w.sources}`);
  }
  const mean = new Float64Array(w.channels);
  const std = new Float64Array(w.channels);
  for (let j = 0; j < w.channels; j++) {
    const from = w.start[j];
    const to = w.start[j + 1];
    if (from === to) {
      std[j] = 1;
      continue;
    }
    let m = 0;
    let s = 0;
    for (let k = from; k < to; k++) {
      m += w.weight[k] * sourceMean[w.index[k]];
      s += w.weight[k] * sourceStd[w.index[k]];
    }
    mean[j] = m;
    std[j] = s;
  }
  return { mean, std };
}

/** Where one site's per-batch statistics and targets go in and out of `repairStatsGraph`. */
export interface RepairTap {
  site: RepairSite;
  /** Graph inputs: this batch's target mean and standard deviation, float32 [1, C, 1…] (`shape`). */
  targetMean: string;
  targetStd: string;
  targetShape: number[];
  /** Graph outputs: per-channel mean and biased variance of the raw (uncorrected) site output, and its shape. */
  mean: string;
  variance: string;
  shape: string;
}

/**
 * The merged graph with every site's output normalised per batch to fed targets (see the top
 * of this file), exposing the raw outputs' batch moments. Taps in the order of `sites`; the
 * input graph is not modified.
 */
export function repairStatsGraph(graph: Graph, sites: readonly RepairSite[], operators?: OperatorRegistry): { graph: Graph; taps: RepairTap[] } {
  const { shapes } = inferShapes(graph, operators);
  const bySite = new Map(sites.map((s) => [s.node, s]));
  const sink: GraphSink = { nodes: [], initializers: new Map(graph.initializers), opset: opsetVersion(graph) ?? 13 };
  const inputs = [...graph.inputs];
  const outputs = [...graph.outputs];
  const taps: RepairTap[] = [];
  for (const node of graph.nodes) {
    const site = bySite.get(node.name);
    if (!site) {
      sink.nodes.push(node);
      continue;
    }
    const shape = shapes.get(site.value);
    if (!shape || shape.length < 2)
      throw new InvalidArgumentError(`cannot tell the rank of the output "${site.value}" to correct`, {
        node: node.name,
        hint: 'give the model input a static rank',
      });
    const p = `${node.name}/repair`;
    const raw = `${site.value}/raw`;
    sink.nodes.push({ ...node, outputs: [raw, ...node.outputs.slice(1)] });
    const m = appendChannelMoments(sink, raw, shape, p, node.name);
    const targetShape = [1, m.channels, ...shape.slice(2).map(() => 1)];
    const tap: RepairTap = {
      site,
      targetMean: `${p}/target_mean`,
      targetStd: `${p}/target_std`,
      targetShape,
      mean: m.mean,
      variance: m.variance,
      shape: m.shape,
    };
    inputs.push({ name: tap.targetMean, dtype: 'float32', shape: targetShape }, { name: tap.targetStd, dtype: 'float32', shape: targetShape });
    sink.initializers.set(`${p}/zero`, tensor('float32', [], Float32Array.of(0)));
    sink.initializers.set(`${p}/one`, tensor('float32', [], Float32Array.of(1)));
    const add = (opType: string, ins: string[], out: string) =>
      sink.nodes.push({ name: `${p}/${opType}_${sink.nodes.length}`, opType, domain: '', inputs: ins, outputs: [out], attributes: [] });
    // ratio = σ_t / σ_b where σ_b > 0, else 1; y = (x − μ_b)·ratio + μ_t.
    add('Sqrt', [m.variance], `${p}/std`);
    add('Greater', [`${p}/std`, `${p}/zero`], `${p}/varies`);
    add('Where', [`${p}/varies`, `${p}/std`, `${p}/one`], `${p}/safe_std`);
    add('Div', [tap.targetStd, `${p}/safe_std`], `${p}/ratio_raw`);
    add('Where', [`${p}/varies`, `${p}/ratio_raw`, `${p}/one`], `${p}/ratio`);
    add('Mul', [`${p}/centered`, `${p}/ratio`], `${p}/scaled`);
    add('Add', [`${p}/scaled`, tap.targetMean], site.value);
    outputs.push(...momentValueInfos(m, shape.length));
    taps.push(tap);
  }
  const order = new Map(sites.map((site, i) => [site.node, i]));
  taps.sort((x, y) => order.get(x.site.node)! - order.get(y.site.node)!);
  if (taps.length !== sites.length) {
    const missing = sites.find((site) => !taps.some((t) => t.site === site))!;
    throw new InvalidArgumentError(`REPAIR site "${missing.node}" is not a node of the graph`);
  }
  return { graph: { ...graph, nodes: sink.nodes, inputs, outputs, initializers: sink.initializers, valueInfo: [] }, taps };
}

/**
 * Per-channel moments pooled over batches in float64 (Chan et al.'s parallel combination of
 * each batch's count, mean and biased variance): the population mean and standard deviation
 * of every sample seen.
 */
export class PooledMoments {
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;
  private count = 0;

  constructor(readonly channels: number) {
    this.mean = new Float64Array(channels);
    this.m2 = new Float64Array(channels);
  }

  /** One batch: its per-channel mean and biased variance over `samples` samples per channel. */
  add(mean: ArrayLike<number>, variance: ArrayLike<number>, samples: number): void {
    const n = this.count + samples;
    const f = samples / n;
    for (let c = 0; c < this.channels; c++) {
      const d = mean[c] - this.mean[c];
      this.mean[c] += d * f;
      this.m2[c] += variance[c] * samples + d * d * this.count * f;
    }
    this.count = n;
  }

  result(): { mean: Float64Array; std: Float64Array } {
    if (this.count === 0) throw new InvalidArgumentError('no samples were seen', { hint: 'the dataset is empty' });
    return { mean: Float64Array.from(this.mean), std: Float64Array.from(this.m2, (v) => Math.sqrt(Math.max(0, v) / this.count)) };
  }
}

/**
 * Folds x ↦ (x − merged.mean)·target.std/merged.std + target.mean into each site's layer
 * (weights scaled per output channel, bias rewritten; a layer without bias gets one). A channel
 * that does not vary on the data keeps its scale and only moves to the target mean.
 */
export function foldRepair(
  graph: Graph,
  sites: readonly RepairSite[],
  merged: readonly { mean: Float64Array; std: Float64Array }[],
  targets: readonly RepairTarget[],
): Graph {
  const initializers = new Map(graph.initializers);
  const replaced = new Map<string, Node>();
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  sites.forEach((site, i) => {
    const layer = byName.get(site.node);
    if (!layer) throw new InvalidArgumentError(`REPAIR site "${site.node}" is not a node of the graph`);
    const c = site.channels;
    const { mean, std } = merged[i];
    const t = targets[i];
    const scale = Float64Array.from({ length: c }, (_, j) => (std[j] > 0 ? t.std[j] / std[j] : 1));
    const w = initializers.get(layer.inputs[1])!;
    const wData = Float32Array.from(w.data as Float32Array);
    const per = wData.length / c;
    for (let j = 0; j < c; j++) {
      if (scale[j] === 1) continue;
      for (let k = 0; k < per; k++) wData[j * per + k] *= scale[j];
    }
    const oldBias = layer.inputs[2] ? (initializers.get(layer.inputs[2])!.data as Float32Array) : new Float32Array(c);
    const bias = Float32Array.from({ length: c }, (_, j) => (oldBias[j] - mean[j]) * scale[j] + t.mean[j]);
    initializers.set(layer.inputs[1], { ...w, data: wData } as Tensor);
    const biasName = layer.inputs[2] || `${layer.name}/repair.bias`;
    initializers.set(biasName, tensor('float32', [c], bias));
    replaced.set(layer.name, { ...layer, inputs: [layer.inputs[0], layer.inputs[1], biasName] });
  });
  return { ...graph, nodes: graph.nodes.map((n) => replaced.get(n.name) ?? n), initializers };
}
