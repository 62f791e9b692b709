import { consumers, defaultOperators, inferShapes, intAttr, intsAttr, moduleName, type Graph, type LayoutResult, type Node } from '@zipit/core';
import { VGG_CONFIGS, VGG_VARIANTS, vggWidths, type VggVariant } from './build.js';

/** One `Conv → [BatchNorm] → ReLU → [MaxPool]` stage of a VGG's feature extractor. */
export interface VggLayer {
  conv: Node;
  batchNorm?: Node;
  relu: Node;
  /** The 2×2 max-pool that follows, if any. */
  pool?: Node;
  channels: number;
}

/** A VGG found in a graph: its layers in order, the nodes between the last one and the classifier, the classifier. */
export interface VggLayout {
  variant: VggVariant;
  /** Whether the graph has BatchNormalization nodes (`false`: none, or folded into the convolutions). */
  batchNorm: boolean;
  /** Width multiplier: the first layer's channels / 64. */
  width: number;
  layers: VggLayer[];
  /** Nodes after the last layer that keep its channels (AveragePool, Flatten/Reshape), in order. */
  tail: Node[];
  classifier: Node;
  /** Axis of the classifier weight that reads the features (1 for PyTorch's Gemm with transB=1). */
  classifierInputAxis: number;
  classes: number;
}

/** A VGG's layout, or why the graph is not one. */
export type VggParse = LayoutResult<VggLayout>;

/** Shape-only readers (the Shape of `x.view(x.size(0), -1)`, role `shape` in core's operator registry) are not on the data path. */
const shapeOnly = (n: Node) => defaultOperators.of(n)?.role === 'shape';

/**
 * Finds a CIFAR-style VGG by structure: a single chain from the input through 3×3 convolutions
 * (each followed by an optional BatchNormalization, a ReLU and an optional 2×2 max-pool) whose
 * max-pool pattern is one of {@link VGG_CONFIGS} and whose widths are the configuration scaled
 * by one multiplier, then an optional 1×1 average pool, a flatten of a 1×1 map and one Gemm
 * whose output is a graph output. When the graph is something else, `reason` names the node.
 */
export function parseVgg(graph: Graph): VggParse {
  const decline = (reason: string): VggParse => ({ ok: false, reason });
  const readers = consumers(graph);
  const dataReaders = (v: string) => (readers.get(v) ?? []).filter((n) => !shapeOnly(n));
  const inputs = graph.inputs.filter((i) => !graph.initializers.has(i.name));
  if (inputs.length !== 1) return decline(`the graph has ${inputs.length} data inputs, a VGG has one image input`);
  const input = inputs[0];
  if (input.shape?.length !== 4) return decline(`the input "${input.name}" is not an NCHW image (shape ${JSON.stringify(input.shape)})`);

  /** The single data-path reader of v, or a reason. */
  const next = (v: string, after: string): Node | string => {
    const rs = dataReaders(v);
    if (rs.length === 1) return rs[0];
    if (rs.length === 0) return `nothing reads the output of ${after}`;
    const add = rs.find((r) => r.opType === 'Add' || r.opType === 'Sum');
    if (add) return `a skip connection leaves ${after} (read by ${rs.map(describe).join(' and ')}), and VGG has none`;
    return `the output of ${after} is read by ${rs.length} nodes (${rs.map(describe).join(', ')}); a VGG is a plain chain`;
  };

  const layers: VggLayer[] = [];
  let value = input.name;
  let after = `the input "${input.name}"`;
  let node = next(value, after);
  while (typeof node !== 'string' && node.opType === 'Conv') {
    const conv = node;
    const w = graph.initializers.get(conv.inputs[1]);
    if (!w || w.shape.length !== 4) return decline(`Conv ${conv.name} has no 4-D weight initializer`);
    const kernel = intsAttr(conv, 'kernel_shape') ?? w.shape.slice(2);
    const strides = intsAttr(conv, 'strides') ?? [1, 1];
    const pads = intsAttr(conv, 'pads') ?? [0, 0, 0, 0];
    if (intAttr(conv, 'group', 1) !== 1 || kernel.some((k) => k !== 3) || strides.some((s) => s !== 1) || pads.some((p) => p !== 1)) {
      return decline(
        `Conv ${conv.name} is not a 3×3, stride-1, padding-1 convolution (kernel [${kernel}], strides [${strides}], pads [${pads}], group ${intAttr(conv, 'group', 1)})`,
      );
    }
    let cur: Node | string = next(conv.outputs[0], `Conv ${conv.name}`);
    let batchNorm: Node | undefined;
    if (typeof cur !== 'string' && cur.opType === 'BatchNormalization') {
      batchNorm = cur;
      cur = next(cur.outputs[0], `BatchNormalization ${cur.name}`);
    }
    if (typeof cur === 'string') return decline(cur);
    if (cur.opType !== 'Relu') return decline(`expected a ReLU after ${describe(batchNorm ?? conv)}, found ${describe(cur)}`);
    const relu = cur;
    value = relu.outputs[0];
    after = `Relu ${relu.name}`;
    node = next(value, after);
    let pool: Node | undefined;
    if (typeof node !== 'string' && node.opType === 'MaxPool') {
      pool = node;
      const k = intsAttr(pool, 'kernel_shape') ?? [];
      const s = intsAttr(pool, 'strides') ?? k;
      if (k.length !== 2 || k.some((d) => d !== 2) || s.some((d) => d !== 2)) {
        return decline(`MaxPool ${pool.name} is not a 2×2, stride-2 pool (kernel [${k}], strides [${s}])`);
      }
      value = pool.outputs[0];
      after = `MaxPool ${pool.name}`;
      node = next(value, after);
    }
    layers.push({ conv, batchNorm, relu, pool, channels: w.shape[0] });
  }
  if (layers.length === 0) {
    return decline(typeof node === 'string' ? node : `the input is read by ${describe(node)}, not by a Conv`);
  }
  const withBn = layers.filter((l) => l.batchNorm).length;
  if (withBn !== 0 && withBn !== layers.length) {
    const missing = layers.find((l) => !l.batchNorm)!;
    return decline(`Conv ${missing.conv.name} has no BatchNormalization but ${withBn} other layers have one`);
  }

  const tail: Node[] = [];
  while (typeof node !== 'string' && ['AveragePool', 'Identity', 'Dropout', 'Flatten', 'Reshape'].includes(node.opType)) {
    if (node.opType === 'AveragePool' && (intsAttr(node, 'kernel_shape') ?? []).some((k) => k !== 1)) {
      return decline(`AveragePool ${node.name} pools over more than one position (kernel [${intsAttr(node, 'kernel_shape')}])`);
    }
    tail.push(node);
    after = `${node.opType} ${node.name}`;
    node = next(node.outputs[0], after);
  }
  if (typeof node === 'string') return decline(node);
  if (node.opType !== 'Gemm') return decline(`expected the classifier (Gemm) after ${after}, found ${describe(node)}`);
  const classifier = node;
  if (!tail.some((n) => n.opType === 'Flatten' || n.opType === 'Reshape')) return decline(`the features reach Gemm ${classifier.name} without a flatten`);
  const cw = graph.initializers.get(classifier.inputs[1]);
  if (!cw || cw.shape.length !== 2 || intAttr(classifier, 'transA', 0) !== 0)
    return decline(`Gemm ${classifier.name} is not a Linear layer with a stored weight`);
  const classifierInputAxis = intAttr(classifier, 'transB', 0) === 1 ? 1 : 0;
  if (!graph.outputs.some((o) => o.name === classifier.outputs[0])) {
    return decline(`the output of the classifier ${classifier.name} is not a graph output (a CIFAR VGG ends with one Linear layer)`);
  }

  const pattern = (cfg: readonly (number | 'M')[]) => cfg.map((c) => (c === 'M' ? 'M' : 'C')).join('');
  const found = layers.map((l) => (l.pool ? 'CM' : 'C')).join('');
  const variant = VGG_VARIANTS.find((v) => pattern(VGG_CONFIGS[v]) === found);
  if (!variant) {
    const pooled = layers.flatMap((l, i) => (l.pool ? [i + 1] : []));
    return decline(`${layers.length} conv layers with max-pools after layers [${pooled.join(', ')}] match no VGG configuration (${VGG_VARIANTS.join(', ')})`);
  }
  const width = layers[0].channels / 64;
  const expected = vggWidths(variant, width);
  const widths = layers.map((l) => l.channels);
  if (widths.some((c, i) => c !== expected[i])) {
    return decline(`conv widths [${widths.join(', ')}] are not the ${variant} widths at one multiplier (expected [${expected.join(', ')}] for width ${width})`);
  }
  const last = layers[layers.length - 1];
  const flatIn = (last.pool ?? last.relu).outputs[0];
  const shape = inferShapes(graph).shapes.get(flatIn);
  if (!shape || shape.length !== 4 || shape[2] !== 1 || shape[3] !== 1) {
    const hw = shape && shape.length === 4 ? `${shape[2] ?? '?'}×${shape[3] ?? '?'}` : 'an unknown size';
    return decline(`the features reach the classifier at ${hw} (after ${describe(last.pool ?? last.relu)}); a CIFAR-style VGG has 1×1 there (32×32 input)`);
  }
  if (cw.shape[classifierInputAxis] !== last.channels) {
    return decline(`Gemm ${classifier.name} reads ${cw.shape[classifierInputAxis]} features, but the last conv layer has ${last.channels} channels`);
  }
  return {
    ok: true,
    layout: {
      variant,
      batchNorm: withBn > 0,
      width,
      layers,
      tail,
      classifier,
      classifierInputAxis,
      classes: cw.shape[1 - classifierInputAxis],
    },
  };

  function describe(n: Node): string {
    return `${n.opType} ${n.name}${moduleName(graph, n) !== n.name ? ` (${moduleName(graph, n)})` : ''}`;
  }
}
