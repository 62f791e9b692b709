import type { Graph, GraphBody, Node } from './graph.js';
import { tapValues } from '../stats/tap.js';

/**
 * `graph` cut down to what computes `names`: those values become its only outputs, and the
 * nodes, initializers and value annotations nothing of them needs are dropped (the inputs stay,
 * so the graph is fed as before). A pass that reads an early value of a deep model — a layer
 * of a refit, one point's features — loads and runs only the part before it (measured once: a
 * refit of the timm ViT pair's 16 layers took 52 s instead of 62 s). A node with a subgraph
 * attribute keeps every outer value it names. Unknown names throw NotFoundError, as tapValues.
 */
export function pruneToValues(graph: Graph, names: readonly string[], opts: { file?: string } = {}): Graph {
  const wanted = new Set(names);
  const tapped = tapValues(graph, [...wanted], opts).outputs;
  const needed = new Set(wanted);
  const kept: Node[] = [];
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const node = graph.nodes[i];
    if (!node.outputs.some((o) => needed.has(o))) continue;
    kept.push(node);
    for (const input of node.inputs) if (input) needed.add(input);
    for (const a of node.attributes) {
      if (a.value.type === 'graph') outerNames(a.value.value, needed);
      if (a.value.type === 'graphs') for (const body of a.value.value) outerNames(body, needed);
    }
  }
  kept.reverse();
  const produced = new Set(kept.flatMap((n) => n.outputs));
  return {
    ...graph,
    nodes: kept,
    // Older exports list initializers among the inputs too: those no kept node reads go with them.
    inputs: graph.inputs.filter((i) => !graph.initializers.has(i.name) || needed.has(i.name)),
    outputs: [...wanted].map((n) => tapped.find((o) => o.name === n) as Graph['outputs'][number]),
    valueInfo: graph.valueInfo.filter((v) => produced.has(v.name) && !wanted.has(v.name)),
    initializers: new Map([...graph.initializers].filter(([name]) => needed.has(name))),
  };
}

/** Adds every value a subgraph's nodes read (outer values among them) to `into`. */
function outerNames(body: GraphBody, into: Set<string>): void {
  for (const node of body.nodes) {
    for (const input of node.inputs) if (input) into.add(input);
    for (const a of node.attributes) {
      if (a.value.type === 'graph') outerNames(a.value.value, into);
      if (a.value.type === 'graphs') for (const b of a.value.value) outerNames(b, into);
    }
  }
  for (const o of body.outputs) into.add(o.name);
}
