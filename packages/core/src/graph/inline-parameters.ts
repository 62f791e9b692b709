import { getAttribute, type Graph } from './graph.js';

/**
 * Turns parameters that an exporter wrote as nodes back into initializers: `Identity` of an
 * initializer (PyTorch deduplicates equal tensors that way — e.g. the biases of two BatchNorms
 * added in a residual block train to identical values) and `Constant` nodes holding a tensor.
 * The graph computes the same; merging needs every weight to be an initializer. The tensor data
 * is shared, not copied. Returns a new graph (the input is not modified).
 */
export function inlineParameters(graph: Graph): Graph {
  const initializers = new Map(graph.initializers);
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const nodes = graph.nodes.filter((node) => {
    const out = node.outputs[0];
    if (node.outputs.length !== 1 || !out || outputs.has(out) || (node.domain && node.domain !== 'ai.onnx')) return true;
    if (node.opType === 'Identity') {
      const src = initializers.get(node.inputs[0]);
      if (!src) return true;
      initializers.set(out, src);
      return false;
    }
    if (node.opType === 'Constant') {
      const value = getAttribute(node, 'value');
      if (!value || value.type !== 'tensor') return true;
      initializers.set(out, value.value);
      return false;
    }
    return true;
  });
  if (nodes.length === graph.nodes.length) return graph;
  return { ...graph, nodes, initializers };
}
