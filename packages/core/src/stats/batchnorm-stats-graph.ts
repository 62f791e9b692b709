import { InvalidArgumentError } from '../errors.js';
import { opsetVersion, type Graph, type ValueInfo } from '../graph/graph.js';
import { appendChannelMoments, momentValueInfos, type GraphSink } from './channel-moments.js';
import { inferShapes } from '../graph/infer-shapes.js';
import type { OperatorRegistry } from '../ops/registry.js';
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
export function batchNormStatsGraph(graph: Graph, operators?: OperatorRegistry): { graph: Graph; taps: BatchNormTap[] } {
  const { shapes } = inferShapes(graph, operators);
  const sink: GraphSink = { nodes: [], initializers: new Map(graph.initializers), opset: opsetVersion(graph) ?? 13 };
  const outputs: ValueInfo[] = [...graph.outputs];
  const taps: BatchNormTap[] = [];
  let serial = 0;
  for (const node of graph.nodes) {
    if (node.opType !== 'BatchNormalization' || (node.domain && node.domain !== 'ai.onnx')) {
      sink.nodes.push(node);
      continue;
    }
    const [x, scale, bias, mean, variance] = node.inputs;
    if (![scale, bias, mean, variance].every((n) => graph.initializers.has(n))) {
      throw new InvalidArgumentError('BatchNormalization parameters must be initializers to re-estimate its statistics', { node: node.name });
    }
    const shape = shapes.get(x);
    if (!shape || shape.length < 2) {
      throw new InvalidArgumentError('cannot tell the rank of the BatchNormalization input', { node: node.name, hint: 'give the model input a static rank' });
    }
    const p = `__bnstat${serial++}`;
    // Batch mean and biased variance, then the inference-mode operator fed with them: the same
    // normalisation as train mode, in few passes over the activation.
    const m = appendChannelMoments(sink, x, shape, p, node.name);
    sink.initializers.set(`${p}/flat`, tensor('int64', [1], BigInt64Array.of(BigInt(m.channels))));
    sink.nodes.push(
      { name: `${p}/Reshape_mean`, opType: 'Reshape', domain: '', inputs: [m.mean, `${p}/flat`], outputs: [`${p}/mean_c`], attributes: [] },
      { name: `${p}/Reshape_var`, opType: 'Reshape', domain: '', inputs: [m.variance, `${p}/flat`], outputs: [`${p}/var_c`], attributes: [] },
      {
        ...node,
        name: `${p}/${node.name || 'BatchNormalization'}`,
        inputs: [x, scale, bias, `${p}/mean_c`, `${p}/var_c`],
        outputs: [node.outputs[0]],
        attributes: node.attributes.filter((a) => a.name === 'epsilon'),
      },
    );
    outputs.push(...momentValueInfos(m, shape.length));
    taps.push({ node: node.name, meanParam: mean, varParam: variance, channels: m.channels, meanOutput: m.mean, varOutput: m.variance, shapeOutput: m.shape });
  }
  return { graph: { ...graph, nodes: sink.nodes, outputs, initializers: sink.initializers, valueInfo: [] }, taps };
}
