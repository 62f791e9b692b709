import { InvalidArgumentError } from '../errors.js';
import { opsetVersion, type Dim, type Graph, type Node, type ValueInfo } from '../graph/graph.js';
import { inferShapes } from '../graph/infer-shapes.js';
import type { OperatorRegistry } from '../ops/registry.js';
import { tensor, type Tensor } from '../tensor/tensor.js';

/** Names of the per-batch moment outputs of one value: mean and biased variance [1, C, 1…], shape. */
export interface MomentOutputs {
  mean: string;
  variance: string;
  shape: string;
  channels: number;
}

/** Where nodes and parameters of a graph rewrite go. */
export interface GraphSink {
  nodes: Node[];
  initializers: Map<string, Tensor>;
  opset: number;
}

/**
 * Appends nodes computing the per-channel (axis 1) batch mean and biased variance of `x` over
 * all other axes, plus its shape. Returns the value names.
 */
export function appendChannelMoments(sink: GraphSink, x: string, shape: readonly Dim[], prefix: string, where: string): MomentOutputs {
  const rank = shape.length;
  if (rank < 2) throw new InvalidArgumentError(`cannot take channel statistics of a rank-${rank} value`, { node: where });
  const channels = shape[1];
  if (typeof channels !== 'number') throw new InvalidArgumentError('the channel count is not static', { node: where });
  const { nodes, initializers, opset } = sink;
  const p = prefix;
  const add = (opType: string, inputs: string[], outs: string[], attributes: Node['attributes'] = []) =>
    nodes.push({ name: `${p}/${opType}_${nodes.length}`, opType, domain: '', inputs, outputs: outs, attributes });
  const keep = { name: 'keepdims', value: { type: 'int' as const, value: 1 } };
  const reduce = (op: string, input: string, axes: number[], out: string) => {
    if (opset >= 18) {
      initializers.set(`${out}/axes`, tensor('int64', [axes.length], BigInt64Array.from(axes.map(BigInt))));
      add(op, [input, `${out}/axes`], [out], [keep]);
    } else {
      add(op, [input], [out], [{ name: 'axes', value: { type: 'ints', value: axes } }, keep]);
    }
  };
  const mean = `${p}/mean`;
  const variance = `${p}/var`;
  const spatialAxes = shape.slice(2).map((_, i) => i + 2);
  // Mean per image over the spatial axes, then over the batch. The variance is taken about the
  // batch mean (E[x]² − E[x²] in float32 cancels to 0 for channels whose mean is large compared
  // with their spread); ReduceSumSquare reads the centred values without another temporary.
  if (rank > 2) {
    add('GlobalAveragePool', [x], [`${p}/gap`]);
    reduce('ReduceMean', `${p}/gap`, [0], mean);
  } else {
    reduce('ReduceMean', x, [0], mean);
  }
  add('Sub', [x, mean], [`${p}/centered`]);
  const spatial = shape.slice(2);
  if (rank > 2 && spatial.every((d): d is number => typeof d === 'number')) {
    const hw = spatial.reduce((a, b) => a * b, 1);
    initializers.set(`${p}/inv_hw`, tensor('float32', [], Float32Array.of(1 / hw)));
    reduce('ReduceSumSquare', `${p}/centered`, spatialAxes, `${p}/sumsq`);
    add('Mul', [`${p}/sumsq`, `${p}/inv_hw`], [`${p}/var_per_image`]);
    reduce('ReduceMean', `${p}/var_per_image`, [0], variance);
  } else {
    add('Mul', [`${p}/centered`, `${p}/centered`], [`${p}/sq`]);
    reduce('ReduceMean', `${p}/sq`, [0, ...spatialAxes], variance);
  }
  add('Shape', [x], [`${p}/shape`]);
  return { mean, variance, shape: `${p}/shape`, channels };
}

/** Graph outputs for the moments of one value. */
export function momentValueInfos(m: MomentOutputs, rank: number): ValueInfo[] {
  const b = [1, m.channels, ...Array.from({ length: rank - 2 }, () => 1)];
  return [
    { name: m.mean, dtype: 'float32', shape: b },
    { name: m.variance, dtype: 'float32', shape: b },
    { name: m.shape, dtype: 'int64', shape: [rank] },
  ];
}

/**
 * The graph plus outputs with the per-batch channel moments of `values` (axis 1), computed
 * without changing anything else. For statistics of layer outputs (REPAIR targets).
 */
export function channelMomentsGraph(graph: Graph, values: readonly string[], operators?: OperatorRegistry): { graph: Graph; moments: MomentOutputs[] } {
  const { shapes } = inferShapes(graph, operators);
  const sink: GraphSink = { nodes: [...graph.nodes], initializers: new Map(graph.initializers), opset: opsetVersion(graph) ?? 13 };
  const outputs = [...graph.outputs];
  const moments = values.map((v, i) => {
    const shape = shapes.get(v);
    if (!shape) throw new InvalidArgumentError(`cannot tell the shape of value "${v}"`, { hint: 'give the model input a static rank' });
    const m = appendChannelMoments(sink, v, shape, `__moments${i}`, v);
    outputs.push(...momentValueInfos(m, shape.length));
    return m;
  });
  return { graph: { ...graph, nodes: sink.nodes, initializers: sink.initializers, outputs, valueInfo: [] }, moments };
}

/** Samples per channel in a batch of the given shape (every axis but 1). */
export function samplesPerChannel(shape: ArrayLike<number | bigint>): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) if (i !== 1) n *= Number(shape[i]);
  return n;
}
