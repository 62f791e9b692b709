import {
  channelAffine,
  channelMomentsAccumulator,
  insertChannelAffine,
  logitRowDeviation,
  RepairTargetMoments,
  type VitRepairSite,
  type VitTemperatureSite,
} from '@zipit/arch-vit';
import type { Graph } from '@zipit/core';
import { runModel, type Batch, type PassOptions } from '@zipit/pipeline';

/**
 * REPAIR of a zipped ViT at `sites` (see @zipit/arch-vit's vit-repair.ts): one pass of each source
 * model measures the target moments of every site (its activations projected by the model's
 * block of the site's merge), then one pass of the merged model per site, in graph order,
 * measures the site — with the corrections of the earlier sites already in place — and inserts
 * its affine correction. `merge(point)` is the merge matrix [C, N·C] of a point.
 */
export async function repairVit(
  merged: Graph,
  sources: readonly Graph[],
  sites: readonly VitRepairSite[],
  merge: (point: number) => Float32Array | Float64Array,
  data: readonly Batch[],
  opts: PassOptions,
): Promise<Graph> {
  if (sites.length === 0) return merged;
  const targets = sites.map((s) => new RepairTargetMoments(merge(s.point), sources.length, s.channels));
  const fetch = sites.map((s) => s.value);
  for (const [k, source] of sources.entries()) {
    for await (const { values } of runModel(source, data, { ...opts, fetch })) {
      sites.forEach((s, i) => targets[i].add(k, values[s.value].data as Float32Array));
    }
  }
  let graph = merged;
  for (const [i, s] of sites.entries()) {
    const measured = channelMomentsAccumulator(s.channels);
    for await (const { values } of runModel(graph, data, { ...opts, fetch: [s.value] })) measured.add(0, values[s.value].data as Float32Array);
    const { scale, shift } = channelAffine(measured.target(), targets[i].target());
    graph = insertChannelAffine(graph, s.value, scale, shift);
  }
  return graph;
}

/**
 * Restores the attention temperature of a zipped ViT layer by layer: the target is the mean
 * per-row deviation of the logits over the source models (averaged over models), the merged
 * model's is measured with the earlier layers already restored, and Q's channels get the ratio.
 */
export async function restoreTemperature(
  merged: Graph,
  sources: readonly Graph[],
  sites: readonly VitTemperatureSite[],
  data: readonly Batch[],
  opts: PassOptions,
): Promise<Graph> {
  if (sites.length === 0) return merged;
  const deviation = async (graph: Graph, logits: readonly string[]) => {
    const acc = logits.map(() => ({ sum: 0, rows: 0 }));
    for await (const { values } of runModel(graph, data, { ...opts, fetch: logits })) {
      logits.forEach((l, i) => {
        const t = values[l];
        const d = logitRowDeviation(t.data as Float32Array, t.shape[t.shape.length - 1]);
        acc[i].sum += d.sum;
        acc[i].rows += d.rows;
      });
    }
    return acc.map((a) => a.sum / a.rows);
  };
  const target = new Float64Array(sites.length);
  for (const source of sources)
    (
      await deviation(
        source,
        sites.map((s) => s.logits),
      )
    ).forEach((d, i) => (target[i] += d / sources.length));
  let graph = merged;
  for (const [i, s] of sites.entries()) {
    const [measured] = await deviation(graph, [s.logits]);
    const scale = new Float32Array(s.outChannels).fill(1);
    scale.fill(measured > 0 ? target[i] / measured : 1, s.offset, s.offset + s.channels);
    graph = insertChannelAffine(graph, s.q, scale, new Float32Array(s.outChannels));
  }
  return graph;
}
