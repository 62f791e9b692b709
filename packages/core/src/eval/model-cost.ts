import { inferShapes } from '../graph/infer-shapes.js';
import { getAttribute, intAttr, type Dim, type Graph } from '../graph/graph.js';
import { sizeOf } from '../tensor/tensor.js';

/** Size and compute of a model, for reports. */
export interface ModelCost {
  /** Elements of all floating-point initializers. */
  parameters: number;
  /** Floating-point operations of one forward pass at batch size 1: 2 × multiply-adds of Conv, Gemm and MatMul, plus one per element for normalisation, activations, pooling and additions. */
  flops: number;
  /** The multiply-add part alone (Conv, Gemm, MatMul), ×2. */
  matmulFlops: number;
  /** Nodes whose cost could not be determined because shapes were unknown. */
  unknown: string[];
}

const PER_ELEMENT = new Set([
  'BatchNormalization',
  'LayerNormalization',
  'Relu',
  'LeakyRelu',
  'Clip',
  'Sigmoid',
  'Tanh',
  'Gelu',
  'Erf',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'ReduceMean',
  'Softmax',
  'Sum',
  'Pow',
  'Sqrt',
]);

/**
 * Counts parameters and FLOPs of a graph (batch size 1; symbolic dimensions count as 1).
 * Conv: 2·Cout·H'·W'·(Cin/group)·kh·kw; Gemm/MatMul: 2·M·N·K; element-wise work one per
 * output element. Constant-only subgraphs (shape arithmetic) cost nothing.
 */
export function modelCost(graph: Graph): ModelCost {
  let parameters = 0;
  for (const t of graph.initializers.values()) {
    if (t.dtype === 'float32' || t.dtype === 'float64' || t.dtype === 'float16' || t.dtype === 'bfloat16') parameters += sizeOf(t.shape);
  }
  const { shapes } = inferShapes(graph);
  const dims = (v: string): number[] | null => {
    const s = shapes.get(v);
    return s ? s.map((d: Dim) => (typeof d === 'number' ? d : 1)) : null;
  };
  let matmulFlops = 0;
  let other = 0;
  const unknown: string[] = [];
  for (const node of graph.nodes) {
    const out = node.outputs[0] ? dims(node.outputs[0]) : null;
    switch (node.opType) {
      case 'Conv': {
        const w = dims(node.inputs[1]);
        if (!out || !w) {
          unknown.push(node.name);
          break;
        }
        const perOutput = sizeOf(w.slice(1));
        matmulFlops += 2 * sizeOf(out) * perOutput;
        break;
      }
      case 'Gemm': {
        const a = dims(node.inputs[0]);
        if (!out || !a) {
          unknown.push(node.name);
          break;
        }
        const transA = intAttr(node, 'transA', 0);
        const k = transA ? a[0] : a[1];
        matmulFlops += 2 * sizeOf(out) * k;
        break;
      }
      case 'MatMul': {
        const a = dims(node.inputs[0]);
        if (!out || !a) {
          unknown.push(node.name);
          break;
        }
        matmulFlops += 2 * sizeOf(out) * a[a.length - 1];
        break;
      }
      default:
        if (PER_ELEMENT.has(node.opType)) {
          const src = node.opType === 'GlobalAveragePool' || node.opType === 'ReduceMean' ? dims(node.inputs[0]) : out;
          if (src) other += sizeOf(src);
          else if (getAttribute(node, 'value') === undefined) unknown.push(node.name);
        }
    }
  }
  return { parameters, flops: matmulFlops + other, matmulFlops, unknown };
}
