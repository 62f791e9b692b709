import type { GraphBody, Node } from '../graph/graph.js';

/**
 * Readable module names for nodes, from the names PyTorch's exporter writes: a weight
 * initializer `layer1.0.conv1.weight` gives `layer1.0.conv1`; otherwise a scoped node name
 * `/layer1/layer1.0/conv1/Conv` gives `layer1.0.conv1` (BatchNorm folded into Conv leaves only
 * this one); otherwise the node name itself.
 */
export function moduleName(graph: GraphBody, node: Node): string {
  const w = node.inputs[1];
  if (w && graph.initializers.has(w) && w.endsWith('.weight')) return w.slice(0, -'.weight'.length);
  const scoped = scopeModule(node.name);
  return scoped || node.name || node.outputs[0] || node.opType;
}

/**
 * `/layer1/layer1.0/conv1/Conv` → `layer1.0.conv1`; `/blocks/blocks.0/mlp/mlp.2/MatMul` →
 * `blocks.0.mlp.2`; `/Add` → ''. Names without a leading slash → ''.
 */
export function scopeModule(nodeName: string): string {
  if (!nodeName.startsWith('/')) return '';
  const segments = nodeName.split('/').filter((s) => s !== '');
  segments.pop();
  let acc = '';
  for (const seg of segments) {
    // A child of nn.Sequential/ModuleList is scoped `<parent's own name>.<index>` (`mlp/mlp.2`).
    const own = acc.slice(acc.lastIndexOf('.') + 1);
    if (acc && seg.startsWith(acc + '.')) acc = seg;
    else if (acc && seg.startsWith(own + '.')) acc = `${acc}${seg.slice(own.length)}`;
    else acc = acc ? `${acc}.${seg}` : seg;
  }
  return acc;
}

/** Longest common prefix of dotted module names, by whole components (`layer1.0`, `layer1.1` → `layer1`). */
export function commonModulePrefix(names: readonly string[]): string {
  if (names.length === 0) return '';
  let prefix = names[0].split('.');
  for (const n of names.slice(1)) {
    const parts = n.split('.');
    let k = 0;
    while (k < prefix.length && k < parts.length && prefix[k] === parts[k]) k++;
    prefix = prefix.slice(0, k);
  }
  return prefix.join('.');
}
