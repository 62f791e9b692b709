import { InvalidArgumentError } from '../errors.js';
import { opsetVersion, type Graph, type Node, type ValueInfo } from '../graph/graph.js';
import { inferShapes } from '../graph/infer-shapes.js';
import { tensor } from '../tensor/tensor.js';

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
 * batch's own mean and (biased) variance over all axes but the channel axis 1, by feeding
 * those batch statistics to the inference-mode operator — and exposes
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
    if (!scaleT || !graph.initializers.get(bias) || !graph.initializers.get(mean) || !graph.initializers.get(variance)) {
      throw new InvalidArgumentError('BatchNormalization parameters must be initializers to re-estimate its statistics', { node: node.name });
    }
    const channels = scaleT.shape[0];
    const p = `__bnstat${serial++}`;
    const add = (opType: string, inputs: string[], outs: string[], attributes: Node['attributes'] = []) =>
      nodes.push({ name: `${p}/${opType}_${nodes.length}`, opType, domain: '', inputs, outputs: outs, attributes });
    const rank = shapes.get(x)?.length;
    if (rank === undefined || rank < 2) {
      throw new InvalidArgumentError('cannot tell the rank of the BatchNormalization input', { node: node.name, hint: 'give the model input a static rank' });
    }
    const axesName = `${p}/axes`;
    if (opset >= 18) initializers.set(axesName, tensor('int64', [1], BigInt64Array.of(0n)));
    // Mean over every axis but 1. For images, GlobalAveragePool (contiguous over H·W) then a
    // mean over the batch is much faster in onnxruntime than one ReduceMean over [0, 2, 3].
    const reduceMean = (input: string, out: string) => {
      let src = input;
      if (rank > 2) {
        src = `${out}/gap`;
        add('GlobalAveragePool', [input], [src]);
      }
      if (opset >= 18) add('ReduceMean', [src, axesName], [out], [{ name: 'keepdims', value: { type: 'int', value: 1 } }]);
      else add('ReduceMean', [src], [out], [{ name: 'axes', value: { type: 'ints', value: [0] } }, { name: 'keepdims', value: { type: 'int', value: 1 } }]);
    };

    const bshape = [1, channels, ...Array.from({ length: Math.max(0, rank - 2) }, () => 1)];
    initializers.set(`${p}/flat`, tensor('int64', [1], BigInt64Array.of(BigInt(channels))));
    const m = `${p}/mean`;
    const v = `${p}/var`;
    reduceMean(x, m);
    const spatial = (shapes.get(x) ?? []).slice(2);
    if (rank > 2 && spatial.every((d): d is number => typeof d === 'number')) {
      // Images: biased variance = E[x²] − E[x]², with Σx² per image and channel from one
      // ReduceSumSquare read (no temporary activation) — float64-accurate enough for BatchNorm
      // statistics and much cheaper than centring first.
      const hw = spatial.reduce((a, b) => a * b, 1);
      const spatialAxes = spatial.map((_, i) => i + 2);
      initializers.set(`${p}/inv_hw`, tensor('float32', [], Float32Array.of(1 / hw)));
      const keep = { name: 'keepdims', value: { type: 'int' as const, value: 1 } };
      if (opset >= 18) {
        initializers.set(`${p}/spatial_axes`, tensor('int64', [spatialAxes.length], BigInt64Array.from(spatialAxes.map(BigInt))));
        add('ReduceSumSquare', [x, `${p}/spatial_axes`], [`${p}/sumsq`], [keep]);
      } else {
        add('ReduceSumSquare', [x], [`${p}/sumsq`], [{ name: 'axes', value: { type: 'ints', value: spatialAxes } }, keep]);
      }
      add('Mul', [`${p}/sumsq`, `${p}/inv_hw`], [`${p}/ex2_per_image`]);
      if (opset >= 18) add('ReduceMean', [`${p}/ex2_per_image`, axesName], [`${p}/ex2`], [keep]);
      else add('ReduceMean', [`${p}/ex2_per_image`], [`${p}/ex2`], [{ name: 'axes', value: { type: 'ints', value: [0] } }, keep]);
      add('Mul', [m, m], [`${p}/m2`]);
      add('Sub', [`${p}/ex2`, `${p}/m2`], [`${p}/var_raw`]);
      add('Relu', [`${p}/var_raw`], [v]);
    } else {
      // Centred: mean of (x − μ)².
      add('Sub', [x, m], [`${p}/centered`]);
      add('Mul', [`${p}/centered`, `${p}/centered`], [`${p}/sq`]);
      reduceMean(`${p}/sq`, v);
    }
    add('Reshape', [m, `${p}/flat`], [`${p}/mean_c`]);
    add('Reshape', [v, `${p}/flat`], [`${p}/var_c`]);
    nodes.push({
      ...node,
      name: `${p}/${node.name || 'BatchNormalization'}`,
      inputs: [x, scale, bias, `${p}/mean_c`, `${p}/var_c`],
      outputs: [node.outputs[0]],
      attributes: node.attributes.filter((a) => a.name === 'epsilon'),
    });
    add('Shape', [x], [`${p}/shape`]);
    outputs.push(
      { name: m, dtype: 'float32', shape: bshape },
      { name: v, dtype: 'float32', shape: bshape },
      { name: `${p}/shape`, dtype: 'int64', shape: [rank] },
    );
    taps.push({ node: node.name, meanParam: mean, varParam: variance, channels, meanOutput: m, varOutput: v, shapeOutput: `${p}/shape` });
  }
  return { graph: { ...graph, nodes, outputs, initializers, valueInfo: [] }, taps };
}
