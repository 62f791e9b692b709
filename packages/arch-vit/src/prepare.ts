import { tensor, UnsupportedError, type Graph, type Node } from '@zipit/core';
import { readVitLayout } from './layout.js';

/**
 * Makes the residual stream's block boundaries explicit: in front of every block, a linear
 * "junction" `x ↦ x·I` (MatMul with an identity [D, D] weight `<block>.junction.weight`) that
 * the block's LayerNorm and residual Add read instead of the stream. The function is unchanged.
 *
 * Why: a ViT's stream is one space from the patch embedding to the head, tied by every residual
 * Add, so zipping could only be all or nothing — a per-model remainder after a partial stop
 * would add its own features to the merged stream with nothing to unmerge it. With a junction
 * the stream splits into one point per block (`embed:stream`, `blocks.0:stream`, …), each a stop
 * point: zipped, a junction's weight becomes Σₖ M_{b+1,k}·U_{b,k} (the identity when both
 * segments share one matching, since M·U = I for any partition); after the stop, each model's
 * copy holds its own U_{b,k} — the unmerge. Segments may also be matched separately, which lets
 * every block re-align the stream. Cost of a zipped junction: one D×D product per token.
 *
 * Idempotent: a graph that already has junctions is returned as is.
 */
export function prepareVit(graph: Graph): Graph {
  const r = readVitLayout(graph);
  if (!r.ok) throw new UnsupportedError(`not a ViT: ${r.reason}`);
  const layout = r.layout;
  if (layout.blocks.some((b) => b.junction)) return graph;
  const initializers = new Map(graph.initializers);
  const nodes = [...graph.nodes];
  const d = layout.dim;
  const rename = new Map<string, string>();
  const junctions = new Set<Node>();
  for (const block of layout.blocks) {
    const scope = scopePath(block.name);
    const weight = `${block.name}.junction.weight`;
    const name = `${scope}/junction/MatMul`;
    const output = `${name}_output_0`;
    if (initializers.has(weight) || nodes.some((n) => n.name === name)) {
      throw new UnsupportedError(`cannot add the stream junction of ${block.name}: "${weight}" or "${name}" already exists`);
    }
    const eye = new Float32Array(d * d);
    for (let i = 0; i < d; i++) eye[i * d + i] = 1;
    initializers.set(weight, tensor('float32', [d, d], eye));
    const junction: Node = { name, opType: 'MatMul', domain: '', inputs: [block.input, weight], outputs: [output], attributes: [] };
    const at = nodes.findIndex((n) => n.outputs.includes(block.input));
    nodes.splice(at + 1, 0, junction);
    junctions.add(junction);
    rename.set(block.input, output);
  }
  const rewired = nodes.map((n) => {
    if (junctions.has(n) || !n.inputs.some((i) => rename.has(i))) return n;
    return { ...n, inputs: n.inputs.map((i) => rename.get(i) ?? i) };
  });
  return { ...graph, nodes: rewired, initializers };
}

/** PyTorch's scope path for a module path: `blocks.0` → `/blocks/blocks.0`. */
function scopePath(module: string): string {
  const scopes: string[] = [];
  for (const p of module.split('.')) {
    if (/^\d+$/.test(p) && scopes.length > 0) scopes.push(`${scopes[scopes.length - 1]}.${p}`);
    else scopes.push(p);
  }
  return '/' + scopes.join('/');
}
