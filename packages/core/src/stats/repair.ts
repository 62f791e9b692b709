import { InvalidArgumentError } from '../errors.js';
import { intAttr, type Graph, type Node } from '../graph/graph.js';
import { tensor, type Tensor } from '../tensor/tensor.js';
import type { MergeGraph } from '../merge/merge-graph.js';

/**
 * REPAIR (Jordan et al., 2022) for zipped models without BatchNorm (BatchNorm folded into the
 * convolutions at export): every zipped layer's output channels are renormalised so that their
 * mean and standard deviation over the data equal the merge-weighted average of the source
 * channels they came from — what a BatchNorm reset does for models that kept their BatchNorm.
 *
 * Mechanics: a BatchNormalization with γ = target σ and β = target μ is inserted after each
 * site; re-estimating its statistics in train mode (`batchNormStatsGraph`, in depth order,
 * each layer seeing the already corrected ones) and folding it back into the layer gives the
 * corrected weights. The graph keeps its operators.
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
  mean: Float32Array;
  std: Float32Array;
}

/**
 * Targets from the source models' channel statistics: for merged channel j,
 * μ_t = Σ_r merge[j, r] μ_r and σ_t = Σ_r merge[j, r] σ_r over the stacked source channels r
 * (merge rows average their members).
 */
export function repairTarget(merge: Float32Array | Float64Array, channels: number, sourceMean: Float64Array, sourceStd: Float64Array): RepairTarget {
  const o = sourceMean.length;
  if (merge.length !== channels * o) throw new InvalidArgumentError(`merge matrix of ${merge.length} entries does not fit ${channels} × ${o}`);
  const mean = new Float32Array(channels);
  const std = new Float32Array(channels);
  for (let j = 0; j < channels; j++) {
    let m = 0;
    let s = 0;
    let w = 0;
    for (let r = 0; r < o; r++) {
      const a = merge[j * o + r];
      if (a === 0) continue;
      m += a * sourceMean[r];
      s += a * sourceStd[r];
      w += a;
    }
    mean[j] = w > 0 ? m / w : 0;
    std[j] = w > 0 ? s / w : 1;
  }
  return { mean, std };
}

/** Inserts after each site a BatchNormalization (γ = target σ, β = target μ, statistics to be estimated). */
export function insertRepairNorms(graph: Graph, sites: readonly RepairSite[], targets: readonly RepairTarget[]): { graph: Graph; norms: string[] } {
  const initializers = new Map(graph.initializers);
  const bySite = new Map(sites.map((s, i) => [s.node, i]));
  const nodes: Node[] = [];
  const norms: string[] = [];
  for (const node of graph.nodes) {
    const i = bySite.get(node.name);
    if (i === undefined) {
      nodes.push(node);
      continue;
    }
    const site = sites[i];
    const t = targets[i];
    const p = `${node.name}/repair`;
    const raw = `${site.value}/raw`;
    nodes.push({ ...node, outputs: [raw, ...node.outputs.slice(1)] });
    const c = site.channels;
    initializers.set(`${p}.weight`, tensor('float32', [c], Float32Array.from(t.std)));
    initializers.set(`${p}.bias`, tensor('float32', [c], Float32Array.from(t.mean)));
    initializers.set(`${p}.running_mean`, tensor('float32', [c], new Float32Array(c)));
    initializers.set(`${p}.running_var`, tensor('float32', [c], new Float32Array(c).fill(1)));
    nodes.push({
      name: p, opType: 'BatchNormalization', domain: '',
      inputs: [raw, `${p}.weight`, `${p}.bias`, `${p}.running_mean`, `${p}.running_var`],
      outputs: [site.value], attributes: [{ name: 'epsilon', value: { type: 'float', value: 1e-5 } }],
    });
    norms.push(p);
  }
  return { graph: { ...graph, nodes, initializers }, norms };
}

/** Folds the inserted BatchNormalizations back into the layers before them (Conv or Gemm with transB = 1). */
export function foldRepairNorms(graph: Graph, norms: readonly string[]): Graph {
  const initializers = new Map(graph.initializers);
  const normSet = new Set(norms);
  const producerOf = new Map<string, Node>();
  for (const n of graph.nodes) for (const o of n.outputs) producerOf.set(o, n);
  const replaced = new Map<string, Node>();
  for (const bn of graph.nodes) {
    if (!normSet.has(bn.name)) continue;
    const layer = producerOf.get(bn.inputs[0])!;
    const [gamma, beta, mean, variance] = bn.inputs.slice(1).map((n) => initializers.get(n)!.data as Float32Array);
    const eps = bn.attributes.find((a) => a.name === 'epsilon')?.value;
    const e = eps && eps.type === 'float' ? eps.value : 1e-5;
    const w = initializers.get(layer.inputs[1])!;
    const c = gamma.length;
    const scale = Float64Array.from(gamma, (g, j) => g / Math.sqrt(variance[j] + e));
    const wData = new Float32Array(w.data as Float32Array);
    const per = wData.length / c;
    for (let j = 0; j < c; j++) for (let k = 0; k < per; k++) wData[j * per + k] *= scale[j];
    const oldBias = layer.inputs[2] ? (initializers.get(layer.inputs[2])!.data as Float32Array) : new Float32Array(c);
    const bias = Float32Array.from({ length: c }, (_, j) => (oldBias[j] - mean[j]) * scale[j] + beta[j]);
    initializers.set(layer.inputs[1], { ...w, data: wData } as Tensor);
    const biasName = layer.inputs[2] || `${layer.name}/repair.bias_folded`;
    initializers.set(biasName, tensor('float32', [c], bias));
    replaced.set(layer.name, { ...layer, inputs: [layer.inputs[0], layer.inputs[1], biasName], outputs: [bn.outputs[0], ...layer.outputs.slice(1)] });
    for (const name of bn.inputs.slice(1)) initializers.delete(name);
  }
  const nodes = graph.nodes.filter((n) => !normSet.has(n.name)).map((n) => replaced.get(n.name) ?? n);
  return { ...graph, nodes, initializers };
}
