import { tensor } from '../tensor/tensor.js';
import type { Graph, Node } from '../graph/graph.js';
import type { MergeGraph } from '../merge/merge-graph.js';

/**
 * Where to collect each point's features. A point observed inside a larger value (`observe.offset`
 * set: Q in the output of a fused QKV projection) gets a `Slice` node that cuts its channels out,
 * added to a copy of the graph; every other point is observed at its value as is. The returned
 * graph computes the same outputs; `values[i]` is the value to observe for point i, its channels
 * on `observe.axis`.
 */
export function observationGraph(graph: Graph, mg: MergeGraph): { graph: Graph; values: string[] } {
  const extra: Node[] = [];
  const initializers = new Map(graph.initializers);
  const values = mg.points.map((p, i) => {
    const { value, axis, offset } = p.observe;
    if (offset === undefined) return value;
    const name = `zipit.observe.${i}`;
    const int64 = (v: number) => tensor('int64', [1], BigInt64Array.of(BigInt(v)));
    initializers.set(`${name}.starts`, int64(offset));
    initializers.set(`${name}.ends`, int64(offset + p.channels));
    initializers.set(`${name}.axes`, int64(axis));
    extra.push({
      name,
      opType: 'Slice',
      domain: '',
      inputs: [value, `${name}.starts`, `${name}.ends`, `${name}.axes`],
      outputs: [name],
      attributes: [],
    });
    return name;
  });
  if (extra.length === 0) return { graph, values };
  return { graph: { ...graph, nodes: [...graph.nodes, ...extra], initializers }, values };
}
