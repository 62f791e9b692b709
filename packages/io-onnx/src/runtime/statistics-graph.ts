import {
  InvalidArgumentError,
  MismatchError,
  opsetVersion,
  tensor,
  type Attribute,
  type AttributeValue,
  type Graph,
  type GraphBody,
  type Node,
  type OpsetImport,
  type Tensor,
  type ValueInfo,
} from '@zipit/core';
import { assertValue, singleDataInput, valueNames } from './tap.js';

/** One merge point whose statistics are wanted. */
export interface SpaceRequest {
  /** Space name, as FeatureStats and error messages will call it. */
  name: string;
  /** The activation at this space in each model, one value name per model, in model order. */
  values: readonly string[];
  /**
   * Channel axis of the activations, counted from the front (1 for NCHW or [B, C]; 2 for
   * [B, T, C]) or −1 for the last axis. Every other axis is a sample axis.
   */
  axis: number;
}

/** Output names of one space in the statistics graph. */
export interface StatisticsOutputs {
  name: string;
  /** Gram matrix XXᵀ of the batch, float32 [N·C, N·C], model-major. */
  gram: string;
  /** Row sums ΣX of the batch, float32 [N·C]. */
  sum: string;
  /** Per model, the int64 shape [C_k, P] of its activation as reshaped (channels, samples). */
  shapes: string[];
}

export interface StatisticsGraph {
  graph: Graph;
  /** The one data input every model reads. */
  input: string;
  spaces: StatisticsOutputs[];
}

/**
 * Builds ONE graph that runs N models side by side on the same input and emits, per space,
 * the Gram matrix and row sums of the models' stacked activations, so that the heavy
 * arithmetic happens in onnxruntime's GEMM and only n×n numbers per space reach JavaScript.
 *
 * Model k's nodes, values and initializers get the prefix `model<k>/` (subgraphs included),
 * except its data input, which becomes the shared input (model 0's input name). Per space,
 * each activation is brought to X_k = [C, P] (channels × samples: NCHW goes through
 * Reshape → Transpose [C, B, H·W] → Reshape; [B, T, C] with axis −1 through Flatten →
 * Transpose), the X_k are concatenated to X [N·C, P], and the graph outputs
 * `MatMul(X, Transpose(X))`, `ReduceSum(X, axis 1)` and each `Shape(X_k)`. Model outputs are
 * dropped, so onnxruntime skips every layer after the deepest requested space.
 */
export function buildStatisticsGraph(models: readonly Graph[], spaces: readonly SpaceRequest[], opts: { file?: string } = {}): StatisticsGraph {
  const file = opts.file;
  if (models.length < 1) throw new InvalidArgumentError('statistics need at least one model', { file });
  if (spaces.length < 1) throw new InvalidArgumentError('statistics need at least one space', { file });
  const opset = opsetVersion(models[0]) ?? 0;
  const inputs = models.map((m, k) => {
    const v = opsetVersion(m) ?? 0;
    if (v !== opset) {
      throw new MismatchError(`model ${k} imports ONNX opset ${v}, model 0 imports ${opset}; one graph cannot run both`, { file, hint: 'export all models with the same opset' });
    }
    return singleDataInput(m, file);
  });
  const known = models.map((m) => valueNames(m));
  const seen = new Set<string>();
  for (const s of spaces) {
    if (seen.has(s.name)) throw new InvalidArgumentError(`space "${s.name}" is requested twice`, { file, space: s.name });
    seen.add(s.name);
    if (s.values.length !== models.length) {
      throw new InvalidArgumentError(`space "${s.name}" names ${s.values.length} values for ${models.length} models`, { file, space: s.name });
    }
    if (!Number.isInteger(s.axis) || s.axis < -1) {
      throw new InvalidArgumentError(`space "${s.name}": channel axis must be ≥ 0 or −1, got ${s.axis}`, { file, space: s.name });
    }
    s.values.forEach((v, k) => assertValue(known[k], v, { file, space: s.name, what: `model ${k}` }));
  }

  const shared = inputs[0];
  const out = new GraphAssembler(opset);
  models.forEach((m, k) => out.addModel(m, `model${k}/`, inputs[k].name, shared.name));

  const results = spaces.map((s, i) => {
    const scope = `stats.${i}`;
    const xs = s.values.map((v, k) => out.channelsFirst(`model${k}/${v}`, s.axis, `${scope}/model${k}`));
    const shapes = xs.map((x, k) => out.op('Shape', [x], {}, `${scope}/model${k}/shape`));
    const x = xs.length === 1 ? xs[0] : out.op('Concat', xs, { axis: int(0) }, `${scope}/concat`);
    const xt = out.op('Transpose', [x], { perm: ints([1, 0]) }, `${scope}/transpose`);
    const gram = out.op('MatMul', [x, xt], {}, `${scope}/gram`);
    const sum = out.reduceSum(x, 1, `${scope}/sum`);
    return { name: s.name, gram, sum, shapes };
  });

  const outputs: ValueInfo[] = [];
  for (const r of results) {
    outputs.push({ name: r.gram, dtype: 'float32', shape: null }, { name: r.sum, dtype: 'float32', shape: null });
    for (const sh of r.shapes) outputs.push({ name: sh, dtype: 'int64', shape: [2] });
  }
  const graph: Graph = {
    name: 'zipit_statistics',
    nodes: out.nodes,
    inputs: [{ ...shared }],
    outputs,
    valueInfo: out.valueInfo,
    initializers: out.initializers,
    irVersion: Math.max(...models.map((m) => m.irVersion)),
    opsetImports: mergeOpsets(models, file),
    producerName: 'zipit',
    metadata: [],
  };
  return { graph, input: shared.name, spaces: results };
}

/** The stats-graph index of the space named in an onnxruntime message about node `stats.<i>/…`. */
export function spaceOfMessage(message: string, spaces: readonly { name: string }[]): string | undefined {
  const m = /stats\.(\d+)\//.exec(message);
  return m ? spaces[Number(m[1])]?.name : undefined;
}

function mergeOpsets(models: readonly Graph[], file: string | undefined): OpsetImport[] {
  const byDomain = new Map<string, number>();
  for (const m of models) {
    for (const o of m.opsetImports) {
      const domain = o.domain === 'ai.onnx' ? '' : o.domain;
      const v = byDomain.get(domain);
      if (v !== undefined && v !== o.version) {
        throw new MismatchError(`models import opset ${v} and ${o.version} of domain "${domain}"`, { file });
      }
      byDomain.set(domain, o.version);
    }
  }
  return [...byDomain].map(([domain, version]) => ({ domain, version }));
}

/** Accumulates the combined graph: prefixed copies of the models plus the statistics nodes. */
class GraphAssembler {
  readonly nodes: Node[] = [];
  readonly valueInfo: ValueInfo[] = [];
  readonly initializers = new Map<string, Tensor>();

  constructor(private readonly opset: number) {}

  addModel(model: Graph, prefix: string, input: string, shared: string): void {
    const rename = (name: string): string => (name === '' ? '' : name === input ? shared : prefix + name);
    const body = renameBody(model, rename);
    this.nodes.push(...body.nodes);
    this.valueInfo.push(...body.valueInfo);
    for (const [k, t] of body.initializers) this.initializers.set(k, t);
  }

  op(opType: string, inputs: string[], attributes: Record<string, AttributeValue>, name: string): string {
    const output = `${name}:0`;
    this.nodes.push({
      name,
      opType,
      domain: '',
      inputs,
      outputs: [output],
      attributes: Object.entries(attributes).map(([n, value]) => ({ name: n, value })),
    });
    return output;
  }

  constInt64(values: number[], name: string): string {
    this.initializers.set(name, tensor('int64', [values.length], BigInt64Array.from(values, (v) => BigInt(v))));
    return name;
  }

  /** Reshapes an activation to [C, P] with C from `axis` (see buildStatisticsGraph). */
  channelsFirst(value: string, axis: number, scope: string): string {
    if (axis === -1) {
      const flat = this.op('Flatten', [value], { axis: int(-1) }, `${scope}/flatten`);
      return this.op('Transpose', [flat], { perm: ints([1, 0]) }, `${scope}/channels_first`);
    }
    const toChannels = this.constInt64([0, -1], `${scope}/shape_c_p`);
    if (axis === 0) return this.reshape(value, toChannels, `${scope}/channels_first`);
    const keep = this.constInt64([...new Array<number>(axis + 1).fill(0), -1], `${scope}/shape_split`);
    const split = this.reshape(value, keep, `${scope}/split`);
    const perm = [axis, ...Array.from({ length: axis }, (_, i) => i), axis + 1];
    const moved = this.op('Transpose', [split], { perm: ints(perm) }, `${scope}/transpose`);
    return this.reshape(moved, toChannels, `${scope}/channels_first`);
  }

  reshape(value: string, shape: string, name: string): string {
    return this.op('Reshape', [value, shape], {}, name);
  }

  reduceSum(value: string, axis: number, name: string): string {
    if (this.opset >= 13) {
      return this.op('ReduceSum', [value, this.constInt64([axis], `${name}/axes`)], { keepdims: int(0) }, name);
    }
    return this.op('ReduceSum', [value], { axes: ints([axis]), keepdims: int(0) }, name);
  }
}

/** A copy of a (sub)graph body with every value name passed through `rename`, recursively. */
function renameBody<B extends GraphBody>(body: B, rename: (name: string) => string): B {
  const info = (v: ValueInfo): ValueInfo => ({ ...v, name: rename(v.name) });
  const initializers = new Map<string, Tensor>();
  for (const [k, t] of body.initializers) initializers.set(rename(k), t);
  return {
    ...body,
    nodes: body.nodes.map((n) => ({
      ...n,
      name: n.name && rename(n.name),
      inputs: n.inputs.map(rename),
      outputs: n.outputs.map(rename),
      attributes: n.attributes.map((a) => renameAttribute(a, rename)),
    })),
    inputs: body.inputs.map(info),
    outputs: body.outputs.map(info),
    valueInfo: body.valueInfo.map(info),
    initializers,
  };
}

function renameAttribute(a: Attribute, rename: (name: string) => string): Attribute {
  if (a.value.type === 'graph') return { ...a, value: { type: 'graph', value: renameBody(a.value.value, rename) } };
  if (a.value.type === 'graphs') return { ...a, value: { type: 'graphs', value: a.value.value.map((g) => renameBody(g, rename)) } };
  return a;
}

function int(value: number): AttributeValue {
  return { type: 'int', value };
}

function ints(value: number[]): AttributeValue {
  return { type: 'ints', value };
}
