import { LinearFit, readLinear, readVitLayout, vitFitLayers, writeLinear, type Linear } from '@zipit/arch-vit';
import { zipGraphs, type Graph, type MergeGraph, type PointTransform } from '@zipit/core';
import { runModel, type Batch, type PassOptions } from '@zipit/pipeline';

export interface RefitOptions {
  /** Ridge towards the zipped weights, relative to the mean E[x²] of a layer's inputs. */
  ridge: number;
  /** Also refit each model's head on its own logits (X: the merged model's head input). */
  heads?: boolean;
}

/**
 * Least-squares refit of the zipped layers of a merged ViT (see @zipit/arch-vit's
 * least-squares.ts), in graph order, each on the merged model with the earlier layers refitted.
 * Targets: the mean over models of each model transformed into the merged basis (a one-model zip
 * with N·Mₖ and Uₖ). `sources` are the graphs that were zipped (same names as the trunk).
 */
export async function refitVit(
  merged: Graph,
  sources: readonly Graph[],
  names: readonly string[],
  mg: MergeGraph,
  transforms: readonly (PointTransform | undefined)[],
  stop: number,
  data: readonly Batch[],
  opts: PassOptions,
  refit: RefitOptions,
): Promise<Graph> {
  const n = sources.length;
  const transformed = sources.map(
    (g, k) =>
      zipGraphs([g], {
        mergeGraph: mg,
        transforms: transforms.map((t, p) => (t && p <= stop ? own(t, mg.points[p].channels, n, k) : undefined)),
        stopAt: stop,
        modelNames: [names[k]],
      }).graph,
  );
  const fetchAll = async (graph: Graph, value: string): Promise<Float32Array[]> => {
    const out: Float32Array[] = [];
    for await (const { values } of runModel(graph, data, { ...opts, fetch: [value] })) out.push(values[value].data as Float32Array);
    return out;
  };
  const trunk = new Set(merged.nodes.map((x) => x.name));
  let graph = merged;
  const fit = async (l: Linear, input: string, targets: Float32Array[], params: { weight: string; bias?: string }) => {
    const xs = await fetchAll(graph, input);
    const f = new LinearFit(l.inChannels, l.outChannels);
    xs.forEach((x, b) => f.add(x, targets[b]));
    const prior = readLinear(graph, l, params);
    const { w, b } = f.solve(prior.w, refit.ridge);
    graph = writeLinear(graph, l, params, w, l.bias ? b : prior.b);
  };
  for (const l of vitFitLayers(sources[0])) {
    if (!trunk.has(l.node.name) || !l.bias) continue;
    const perModel = await Promise.all(transformed.map((t) => fetchAll(t, l.output)));
    const targets = perModel[0].map((_, b) => {
      const y = new Float32Array(perModel[0][b].length);
      for (const m of perModel) for (let e = 0; e < y.length; e++) y[e] += m[b][e] / n;
      return y;
    });
    await fit(l, l.node.inputs[0], targets, { weight: l.weight, bias: l.bias });
  }
  if (refit.heads) {
    for (const [k, source] of sources.entries()) {
      const r = readVitLayout(source);
      if (!r.ok) throw new Error(r.reason);
      const head = r.layout.head;
      const node = graph.nodes.find((x) => x.name === `${head.node.name}@${names[k]}`);
      if (!node || !head.bias) continue;
      const targets = await fetchAll(source, head.output);
      await fit(head, node.inputs[0], targets, { weight: node.inputs[1], bias: node.opType === 'Gemm' ? node.inputs[2] : `${head.bias}@${names[k]}` });
    }
  }
  return graph;
}

/** Model k's own transform of a point: N·Mₖ [C, C] and Uₖ [C, C]. */
function own(t: PointTransform, c: number, n: number, k: number): PointTransform {
  const merge = new Float64Array(c * c);
  for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) merge[i * c + j] = n * t.merge[i * n * c + k * c + j];
  return { merge, unmerge: t.unmerge.slice(k * c * c, (k + 1) * c * c) };
}
