import { FormatError, type GraphBody, type Node } from '@zipit/core';

/**
 * Structural checks of a graph read from a file, so that a broken model fails on read with a
 * message naming the node and the file instead of somewhere downstream with a misleading one:
 *
 * - the main graph has at least one output;
 * - names are unique: graph inputs, graph outputs, node names, and every value is produced
 *   once (SSA: a node output is not also a graph input, an initializer or another node's output);
 * - every node input and graph output is defined (graph input, initializer, node output, or
 *   for subgraphs a value of an enclosing graph);
 * - the graph is acyclic, with nodes in topological order (as ONNX requires); a cycle names a
 *   node on it.
 *
 * Subgraphs (If/Loop/Scan bodies) are checked the same way, with the enclosing graphs' values
 * in scope.
 */
export function validateGraph(body: GraphBody, file: string | undefined, outer: ReadonlySet<string> = new Set(), where = ''): void {
  const fail = (message: string, node?: Node): never => {
    throw new FormatError(`${where}${message}`, { file, node: node ? node.name || undefined : undefined, hint: 'the model file is invalid; re-export it' });
  };
  const label = (n: Node, i: number) => `node ${n.name ? `"${n.name}"` : `#${i}`} (${n.opType})`;
  if (!where && body.outputs.length === 0) fail('the graph has no outputs');

  const defined = new Map<string, string>(); // value name → what defines it
  for (const v of body.inputs) {
    if (defined.has(v.name)) fail(`graph input "${v.name}" is declared twice`);
    defined.set(v.name, 'a graph input');
  }
  for (const name of body.initializers.keys()) if (!defined.has(name)) defined.set(name, 'an initializer');
  const producer = new Map<string, number>();
  const nodeNames = new Set<string>();
  body.nodes.forEach((n, i) => {
    if (n.name) {
      if (nodeNames.has(n.name)) fail(`${label(n, i)}: another node has the same name`, n);
      nodeNames.add(n.name);
    }
    for (const o of n.outputs) {
      if (!o) continue;
      const prev = defined.get(o) ?? (producer.has(o) ? `${label(body.nodes[producer.get(o)!], producer.get(o)!)}` : undefined);
      if (prev) fail(`${label(n, i)} writes "${o}", which ${prev} already defines (every value must be produced once)`, n);
      producer.set(o, i);
    }
  });

  const known = (name: string) => defined.has(name) || producer.has(name) || outer.has(name);
  body.nodes.forEach((n, i) => {
    for (const x of n.inputs) {
      if (!x) continue; // an omitted optional input
      if (!known(x)) fail(`${label(n, i)} reads "${x}", which no node, graph input or initializer defines`, n);
    }
  });
  const outs = new Set<string>();
  for (const o of body.outputs) {
    if (outs.has(o.name)) fail(`graph output "${o.name}" is declared twice`);
    outs.add(o.name);
    if (!known(o.name)) fail(`graph output "${o.name}" is not produced by any node, graph input or initializer`);
  }

  // Order: every input produced by an earlier node. If not, a cycle or merely an unsorted graph.
  body.nodes.forEach((n, i) => {
    for (const x of n.inputs) {
      const p = x ? producer.get(x) : undefined;
      if (p === undefined || p < i) continue;
      const cycle = findCycle(body.nodes, producer, i);
      if (cycle) fail(`the graph has a cycle through ${cycle.map((k) => label(body.nodes[k], k)).join(' → ')} → back to the first`, body.nodes[cycle[0]]);
      fail(`${label(n, i)} reads "${x}" before ${label(body.nodes[p], p)} produces it (nodes must be in topological order)`, n);
    }
  });

  // Subgraphs see every value of this graph (and of the graphs around it).
  const scope = new Set([...outer, ...defined.keys(), ...producer.keys()]);
  body.nodes.forEach((n, i) => {
    for (const a of n.attributes) {
      const inner = a.value.type === 'graph' ? [a.value.value] : a.value.type === 'graphs' ? a.value.value : [];
      for (const g of inner) validateGraph(g, file, scope, `${where}${label(n, i)}, attribute ${a.name}: `);
    }
  });
}

/** A cycle reachable from node `start` (node indices in data-flow order), or null when there is none. */
function findCycle(nodes: readonly Node[], producer: ReadonlyMap<string, number>, start: number): number[] | null {
  // Iterative depth-first search along "reads from" (no recursion: graphs have 10⁵ nodes); an
  // edge back to a node on the stack closes a cycle.
  const state = new Uint8Array(nodes.length); // 0 new, 1 on the stack, 2 done
  const stack: { node: number; next: number }[] = [{ node: start, next: 0 }];
  state[start] = 1;
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const inputs = nodes[top.node].inputs;
    if (top.next >= inputs.length) {
      state[top.node] = 2;
      stack.pop();
      continue;
    }
    const x = inputs[top.next++];
    const p = x ? producer.get(x) : undefined;
    if (p === undefined) continue;
    if (state[p] === 1)
      return stack
        .slice(stack.findIndex((f) => f.node === p))
        .map((f) => f.node)
        .reverse();
    if (state[p] === 0) {
      state[p] = 1;
      stack.push({ node: p, next: 0 });
    }
  }
  return null;
}
