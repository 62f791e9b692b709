import { InvalidArgumentError } from '../errors.js';
import { floatAttr, opsetVersion, type Graph, type Node, type ValueInfo } from '../graph/graph.js';
import { inferShapes } from '../graph/infer-shapes.js';
import { tensor, type Tensor } from '../tensor/tensor.js';

/** Where the per-batch statistics of one BatchNormalization node come out of the rewritten graph. */
export interface BatchNormTap {
  /** The BatchNormalization node. */
  node: string;
  /** Its running mean and variance initializers (what a reset rewrites). */
  meanParam: string;
  varParam: string;
  channels: number;
  /** Graph outputs: per-channel batch mean [C] and biased batch variance [C] of the node's input. */
  meanOutput: string;
  varOutput: string;
  /** Graph output: the input's shape (int64), to turn the biased variance into the unbiased one. */
  shapeOutput: string;
}

/**
 * Rewrites every BatchNormalization into its training-mode computation — normalise by the
 * batch's own mean and (biased) variance over all axes but the channel axis 1 — and exposes
 * those per-batch statistics as graph outputs. Running this graph over data reproduces a
 * PyTorch forward pass in train mode, which is how the reference re-estimates BatchNorm
 * statistics after zipping (reset, then one pass with a cumulative average). The input graph
 * is not modified.
 */
export function batchNormStatsGraph(graph: Graph): { graph: Graph; taps: BatchNormTap[] } {
  const opset = opsetVersion(graph) ?? 13;
  const { shapes } = inferShapes(graph);
  const initializers = new Map(graph.initializers);
  const nodes: Node[] = [];
  const outputs: ValueInfo[] = [...graph.outputs];
  const taps: BatchNormTap[] = [];
  let serial = 0;
  for (const node of graph.nodes) {
    if (node.opType !== 'BatchNormalization' || (node.domain && node.domain !== 'ai.onnx')) {
      nodes.push(node);
      continue;
    }
    const [x, scale, bias, mean, variance] = node.inputs;
    const scaleT = graph.initializers.get(scale);
    const biasT = graph.initializers.get(bias);
    if (!scaleT || !biasT || !graph.initializers.get(mean) || !graph.initializers.get(variance)) {
      throw new InvalidArgumentError('BatchNormalization parameters must be initializers to re-estimate its statistics', { node: node.name });
    }
    const channels = scaleT.shape[0];
    const p = `__bnstat${serial++}`;
    const eps = floatAttr(node, 'epsilon', 1e-5);
    const add = (opType: string, inputs: string[], outs: string[], attributes: Node['attributes'] = []) =>
      nodes.push({ name: `${p}/${opType}_${nodes.length}`, opType, domain: '', inputs, outputs: outs, attributes });
    const reduceMean = (input: string, out: string) => {
      if (opset >= 18) add('ReduceMean', [input, axesName], [out], [{ name: 'keepdims', value: { type: 'int', value: 1 } }]);
      else add('ReduceMean', [input], [out], [{ name: 'axes', value: { type: 'ints', value: axes } }, { name: 'keepdims', value: { type: 'int', value: 1 } }]);
    };
    const rank = shapes.get(x)?.length;
    if (rank === undefined || rank < 2) {
      throw new InvalidArgumentError('cannot tell the rank of the BatchNormalization input', { node: node.name, hint: 'give the model input a static rank' });
    }
    const axes = [0, ...Array.from({ length: Math.max(0, rank - 2) }, (_, i) => i + 2)];
    const axesName = `${p}/axes`;
    if (opset >= 18) initializers.set(axesName, tensor('int64', [axes.length], BigInt64Array.from(axes.map(BigInt))));
    const bshape = [1, channels, ...Array.from({ length: Math.max(0, rank - 2) }, () => 1)];
    initializers.set(`${p}/scale`, reshaped(scaleT, bshape));
    initializers.set(`${p}/bias`, reshaped(biasT, bshape));
    initializers.set(`${p}/eps`, tensor('float32', [], Float32Array.of(eps)));
    const m = `${p}/mean`;
    const d = `${p}/centered`;
    const v = `${p}/var`;
    reduceMean(x, m);
    add('Sub', [x, m], [d]);
    add('Mul', [d, d], [`${p}/sq`]);
    reduceMean(`${p}/sq`, v);
    add('Add', [v, `${p}/eps`], [`${p}/var_eps`]);
    add('Sqrt', [`${p}/var_eps`], [`${p}/std`]);
    add('Div', [d, `${p}/std`], [`${p}/normalized`]);
    add('Mul', [`${p}/normalized`, `${p}/scale`], [`${p}/scaled`]);
    add('Add', [`${p}/scaled`, `${p}/bias`], [node.outputs[0]]);
    add('Shape', [x], [`${p}/shape`]);
    outputs.push(
      { name: m, dtype: 'float32', shape: bshape.map((s, i) => (i === 1 ? s : 1)) },
      { name: v, dtype: 'float32', shape: bshape.map((s, i) => (i === 1 ? s : 1)) },
      { name: `${p}/shape`, dtype: 'int64', shape: [rank] },
    );
    taps.push({ node: node.name, meanParam: mean, varParam: variance, channels, meanOutput: m, varOutput: v, shapeOutput: `${p}/shape` });
  }
  return { graph: { ...graph, nodes, outputs, initializers, valueInfo: [] }, taps };
}

function reshaped(t: Tensor, shape: number[]): Tensor {
  if (t.dtype !== 'float32') throw new InvalidArgumentError(`BatchNormalization parameters must be float32, got ${t.dtype}`);
  return tensor('float32', shape, t.data as Float32Array);
}
