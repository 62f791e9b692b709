import {
  InvalidArgumentError,
  type Architecture,
  LinearFit,
  readLinear,
  writeLinear,
  zipGraphs,
  type Graph,
  type MergeGraph,
  type PointTransform,
  type RefitLayer,
  type RefitPlan,
} from '@zipit/core';
import type { Batches, PassOptions } from './batches.js';
import { type BatchResult, runModel } from './run-model.js';

/** How a refit solves each layer. */
export interface RefitOptions {
  /** Ridge towards the zipped weights, relative to the mean E[x²] of a layer's inputs (0: plain least squares). */
  ridge: number;
  /** Also refit each model's head on its own logits (inputs: the merged model's head input). */
  heads?: boolean;
}

/**
 * The layers `architecture` lets a refit solve in `graph` (its `refitLayers`), or an
 * InvalidArgumentError naming the architecture when it declares none (the refit is measured on
 * ViTs; elsewhere averaging is not the failure a refit corrects, and nothing says which layers).
 */
export function refitPlan(architecture: Architecture | undefined, graph: Graph): RefitPlan {
  if (!architecture?.refitLayers) {
    throw new InvalidArgumentError(
      architecture
        ? `the ${architecture.name} architecture declares no layers for a least-squares refit`
        : 'a least-squares refit needs an architecture plugin that declares its layers; these models were recognised by none',
      { hint: 'merge without a refit; an architecture plugin enables it by declaring refitLayers (vit does)' },
    );
  }
  return architecture.refitLayers(graph);
}

/** What a refit changed. */
export interface RefitResult {
  graph: Graph;
  /** Trunk layers refitted, in graph order (node names). */
  layers: string[];
  /** Per-model unmerge layers refitted (node names in the merged graph: the first of `plan.unmerge` each model has after the stop). */
  unmerged: string[];
  /** Per-model heads refitted (node names in the merged graph). */
  heads: string[];
}

/**
 * Least-squares refit of the zipped layers of a merged model (after PLeaS, Nasery et al., CVPR
 * 2024; the layers come from the architecture's `refitLayers`, core's RefitPlan). In graph order,
 * each layer of `plan` that the merged trunk holds (zipped, up to `stop`) is solved so that the
 * merged model's actual input to it, with the earlier layers already refitted, maps onto the mean
 * over models of that layer's output in the merged basis (model k zipped alone with N·Mₖ and Uₖ
 * of every point, {@link ownTransform}; where an averaging merge combines features within a model,
 * those output channels take the zip of the models' true outputs, {@link lossyOutputs}), with a
 * ridge pull towards the zipped weights. After a partial stop, each model's first layer of
 * `plan.unmerge` (holding its Uₖ) is solved to map the merged features onto that model's own; with
 * `heads`, each model's head is then refitted to that model's own logits. Passes over `data`: per
 * layer one per model (two with lossy outputs) and one of the merged model, each cut down to the
 * layer (runModel fetches through `pruneToValues`) and run in lockstep batch by batch, so memory
 * stays at one batch and `data` must yield the same batches on every call. On a self-merge the
 * targets are what the merged model computes already, so the weights stay (up to the fit).
 */
export async function refitLayers(
  merged: Graph,
  sources: readonly Graph[],
  names: readonly string[],
  mergeGraph: MergeGraph,
  transforms: readonly (PointTransform | undefined)[],
  stop: number,
  plan: RefitPlan,
  data: () => Batches,
  opts: PassOptions,
  refit: RefitOptions,
): Promise<RefitResult> {
  if (!(refit.ridge >= 0)) throw new InvalidArgumentError(`the refit ridge must be a number ≥ 0, got ${refit.ridge}`);
  const n = sources.length;
  const transformed = sources.map(
    (g, k) =>
      zipGraphs([g], {
        mergeGraph,
        transforms: transforms.map((t, p) => (t && p <= stop ? ownTransform(t, mergeGraph.points[p].channels, n, k) : undefined)),
        stopAt: stop,
        modelNames: [names[k]],
      }).graph,
  );
  const pass = { ...opts, onProgress: undefined, interleaved: true };
  let graph = merged;
  /**
   * Solves layer `l` of the merged graph (reading `input`, writing `params`) on the merge data:
   * the merged model and every graph of `from` run batch by batch in lockstep, and `target`
   * turns the values they fetch into that batch's targets, so no pass keeps more than one batch.
   */
  const fit = async (
    l: RefitLayer,
    input: string,
    params: { weight: string; bias?: string },
    from: readonly { graph: Graph; value: string }[],
    target: (values: Float32Array[]) => Float32Array,
  ) => {
    const f = new LinearFit(l.inChannels, l.outChannels);
    const runs = [{ graph, value: input }, ...from].map((r) => ({ value: r.value, batches: runModel(r.graph, data(), { ...pass, fetch: [r.value] }) }));
    try {
      for (;;) {
        const step = [];
        for (const r of runs) step.push(await r.batches.next());
        if (step.every((s) => s.done)) break;
        if (step.some((s) => s.done))
          throw new InvalidArgumentError(`the refit of ${l.node} saw the merge data end after different numbers of batches`, {
            hint: 'the merge data must yield the same batches on every call',
          });
        const values = step.map((s, i) => (s.value as BatchResult).values[runs[i].value].data as Float32Array);
        f.add(values[0], target(values.slice(1)));
      }
    } finally {
      for (const r of runs) await r.batches.return(undefined);
    }
    const prior = readLinear(graph, l, params);
    const solved = f.solve(prior.w, refit.ridge, params.bias !== undefined);
    graph = writeLinear(graph, l, params, solved.w, params.bias ? solved.b : prior.b);
  };
  const trunk = new Set(merged.nodes.map((x) => x.name));
  const layers: string[] = [];
  for (const l of plan.layers) {
    if (!trunk.has(l.node)) continue;
    const exact = lossyOutputs(l, mergeGraph, transforms, stop, n);
    const from = [...transformed, ...(exact.length > 0 ? sources : [])].map((g) => ({ graph: g, value: l.output }));
    await fit(l, l.input, { weight: l.weight, bias: l.bias }, from, (values) => {
      const y = new Float32Array(values[0].length);
      for (const m of values.slice(0, n)) for (let e = 0; e < y.length; e++) y[e] += m[e] / n;
      for (const r of exact) mergeInto(y, r, values.slice(n), l.outChannels, n);
      return y;
    });
    layers.push(l.node);
  }
  const unmerged: string[] = [];
  if (stop >= 0)
    for (const [k, source] of sources.entries()) {
      const l = plan.unmerge?.find((u) => graph.nodes.some((x) => x.name === `${u.node}@${names[k]}`));
      if (!l) continue;
      const node = graph.nodes.find((x) => x.name === `${l.node}@${names[k]}`) as Graph['nodes'][number];
      const params = { weight: node.inputs[1], ...(l.bias ? { bias: node.inputs[2] ?? `${l.bias}@${names[k]}` } : {}) };
      await fit(l, node.inputs[0], params, [{ graph: source, value: l.output }], ([y]) => y);
      unmerged.push(node.name);
    }
  const heads: string[] = [];
  if (refit.heads && plan.head && stop >= 0) {
    const head = plan.head;
    for (const [k, source] of sources.entries()) {
      const name = `${head.node}@${names[k]}`;
      const node = graph.nodes.find((x) => x.name === name);
      if (!node) continue;
      const bias = head.bias ? (node.opType === 'Gemm' ? node.inputs[2] : `${head.bias}@${names[k]}`) : undefined;
      await fit(head, node.inputs[0], { weight: node.inputs[1], bias }, [{ graph: source, value: head.output }], ([y]) => y);
      heads.push(name);
    }
  }
  return { graph, layers, unmerged, heads };
}

/** Output channels of a layer that a lossy averaging merge produces: `offset` … `offset + C` of the point's transform. */
export interface LossyRange {
  offset: number;
  channels: number;
  merge: PointTransform['merge'];
}

/**
 * The ranges of `l`'s output channels (zipped, up to `stop`) whose point merges by averaging
 * (no negative weight) and loses something for a model zipped alone: some Mₖ merges two of its
 * own features (ZipIt! within a model). Model k alone then reads those features back as their
 * average, and every later layer of it drifts from model k; the target of such channels is the
 * zip of the models' true outputs instead, Σₖ Mₖyₖ. Permutations and rotations are exact alone.
 */
export function lossyOutputs(
  l: RefitLayer,
  mergeGraph: MergeGraph,
  transforms: readonly (PointTransform | undefined)[],
  stop: number,
  n: number,
): LossyRange[] {
  const outAxis = 1 - l.inAxis;
  const ranges: LossyRange[] = [];
  for (const [p, point] of mergeGraph.points.entries()) {
    const t = transforms[p];
    if (!t || p > stop) continue;
    const ref = point.producers.find((r) => r.param === l.weight && r.axis === outAxis && (r.repeat ?? 1) === 1);
    if (!ref || !t.merge.every((v) => v >= 0)) continue;
    const c = point.channels;
    let lossy = false;
    for (let k = 0; k < n && !lossy; k++)
      for (let i = 0; i < c && !lossy; i++) {
        let members = 0;
        for (let j = 0; j < c; j++) if (t.merge[i * n * c + k * c + j] !== 0) members++;
        lossy = members > 1;
      }
    if (lossy) ranges.push({ offset: ref.offset ?? 0, channels: c, merge: t.merge });
  }
  return ranges;
}

/** Overwrites `r`'s channels of the target rows `y` [rows, width] with Σₖ Mₖyₖ from the models' true outputs. */
export function mergeInto(y: Float32Array, r: LossyRange, outputs: readonly Float32Array[], width: number, n: number): void {
  const c = r.channels;
  const rowsOf: { k: number; j: number; w: number }[][] = Array.from({ length: c }, () => []);
  for (let i = 0; i < c; i++)
    for (let k = 0; k < n; k++)
      for (let j = 0; j < c; j++) {
        const w = r.merge[i * n * c + k * c + j];
        if (w !== 0) rowsOf[i].push({ k, j, w });
      }
  const rows = y.length / width;
  for (let row = 0; row < rows; row++) {
    const base = row * width + r.offset;
    for (let i = 0; i < c; i++) {
      let v = 0;
      for (const { k, j, w } of rowsOf[i]) v += w * outputs[k][base + j];
      y[base + i] = v;
    }
  }
}

/**
 * Model k's own transform of a point: N·Mₖ [C, C] and Uₖ [C, C]. Its merged features N·Mₖx are
 * what the mean over models weights into the target (Σₖ Mₖxₖ, the zip's merged features). For an
 * averaging merge (no negative weight: permute, ZipIt!), what reads them sees each merged feature
 * as its members from model k average it (Mₖx over their share sᵢ = Σⱼ(Mₖ)ᵢⱼ), not N·sᵢ times
 * that: Uₖ's columns are scaled by 1/(N·sᵢ) (0 where model k has no member). For a permutation
 * sᵢ = 1/N and nothing changes; without it, features ZipIt! merged within a model would reach the
 * next layer of model k alone doubled. Signed merges (rotations) keep Uₖ.
 */
export function ownTransform(t: PointTransform, c: number, n: number, k: number): PointTransform {
  const merge = new Float64Array(c * c);
  for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) merge[i * c + j] = n * t.merge[i * n * c + k * c + j];
  const unmerge = Float64Array.from(t.unmerge.subarray(k * c * c, (k + 1) * c * c));
  if (t.merge.every((v) => v >= 0)) {
    for (let i = 0; i < c; i++) {
      let share = 0;
      for (let j = 0; j < c; j++) share += merge[i * c + j] / n;
      const scale = share > 0 ? 1 / (n * share) : 0;
      for (let r = 0; r < c; r++) unmerge[r * c + i] *= scale;
    }
  }
  return { merge, unmerge };
}
