import { InvalidArgumentError, MismatchError } from '../errors.js';
import { opsetVersion, type Attribute, type AttributeValue, type Graph, type GraphBody, type Node, type OpsetImport, type ValueInfo } from '../graph/graph.js';
import { tensor, type Tensor } from '../tensor/tensor.js';
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

/**
 * How a space's activations are laid out for the Gram products (chosen per space from the
 * activation's shape, see {@link buildStatisticsGraph}):
 * - `rows`: X_k = [P, C] (channels last, e.g. [B, T, C] or [B, C]); blocks X_kᵀ X_l;
 * - `batched`: X_k = [B, C, S] (channels then S positions, e.g. NCHW as [B, C, H·W]); blocks Σ_b X_k[b] X_l[b]ᵀ;
 * - `columns`: X_k = [C, P] (any layout, via a transpose); blocks X_k X_lᵀ.
 */
export type StatisticsLayout = 'rows' | 'batched' | 'columns';

/**
 * One block of a space's centred Gram matrix: channels of model k against channels of model l,
 * each centred on its mean over the batch (m_k = mean_samples x_k, float32).
 *
 * Why centred: the raw Gram Σ x xᵀ in float32 carries a rounding error of ~1e-7 · Σ x², so the
 * covariance E[xxᵀ] − μμᵀ of a feature that varies little around a large mean — late,
 * low-resolution layers on few images: σ²/μ² ~ 1e-7…1e-10, with ReLU6 or SiLU — is rounding
 * noise: negative variances and |correlations| above 1 (measured on MobileNetV2 at 32 px,
 * 8 images: 65 of 240 variances negative at one point), and ZipIt and permute then pair a
 * feature with the wrong twin. Centred, the float32 error is ~1e-7 of the variance itself; the
 * accumulator adds back (Σx)(Σx)ᵀ/count in float64.
 */
export interface GramBlock {
  k: number;
  l: number;
  /** Output name: float32 [C, C], Σ_samples (x_k − m_k)(x_l − m_l)ᵀ. */
  name: string;
}

/** Output names of one space in the statistics graph. */
export interface StatisticsOutputs {
  name: string;
  layout: StatisticsLayout;
  /** Axis of X_k that holds the channels; every other axis indexes samples. */
  channelAxis: number;
  /** The blocks k ≤ l of the batch-centred Gram matrix [N·C, N·C] (model-major; see GramBlock); block (l, k) is the transpose of (k, l). */
  blocks: GramBlock[];
  /** Per model, its row sums Σ_samples x_k, float32 [C]. */
  sums: string[];
  /** Per model, the int64 shape of X_k (see {@link StatisticsLayout}), for channel and sample counts. */
  shapes: string[];
}

export interface StatisticsGraph {
  graph: Graph;
  /** The one data input every model reads. */
  input: string;
  spaces: StatisticsOutputs[];
}

export interface StatisticsGraphOptions {
  /** File named in error messages. */
  file?: string;
  /**
   * Per space, the activation's shape in model 0 when known (from a probe run or shape
   * inference). It selects the fastest layout; without it a space uses `columns` (or `rows`
   * for axis −1), which is correct for any shape.
   */
  shapes?: readonly (readonly number[] | null | undefined)[];
}

/** Spatial positions per sample from which the batched layout beats a transpose (see chooseLayout). */
const BATCHED_MIN_POSITIONS = 16;

/**
 * Builds ONE graph that runs N models side by side on the same input and emits, per space,
 * the blocks of the Gram matrix and the row sums of the models' stacked activations, so that
 * the heavy arithmetic happens in the executor's GEMM (onnxruntime's, with the built-in
 * executors) and only n×n numbers per space reach JavaScript.
 *
 * Model k's nodes, values and initializers get the prefix `model<k>/` (subgraphs included),
 * except its data input, which becomes the shared input (model 0's input name). Per space, each
 * activation X_k is reshaped without copying where the layout allows (see
 * {@link StatisticsLayout}): NCHW becomes [B, C, H·W] and the blocks are batched MatMuls summed
 * over the batch; [B, T, C] becomes [B·T, C] and the blocks are X_kᵀX_l. Only the blocks k ≤ l
 * are computed — the rest follow by symmetry — so no activation is concatenated or transposed
 * in memory, and the Gram costs N(N+1)/2 · 2C²P flops instead of 2(NC)²P. Model outputs are
 * dropped, so the runtime skips every layer after the deepest requested space.
 */
export function buildStatisticsGraph(models: readonly Graph[], spaces: readonly SpaceRequest[], opts: StatisticsGraphOptions = {}): StatisticsGraph {
  const file = opts.file;
  const inputs = checkStatisticsRequest(models, spaces, file);
  const opset = opsetVersion(models[0]) ?? 0;
  const shared = inputs[0];
  const out = new GraphAssembler(opset);
  models.forEach((m, k) => out.addModel(m, `model${k}/`, inputs[k].name, shared.name));

  const results = spaces.map((s, i): StatisticsOutputs => {
    const scope = `stats.${i}`;
    const plan = chooseLayout(s.axis, opts.shapes?.[i] ?? null);
    out.beginSpace(s.values.map((v, k) => `model${k}/${v}`));
    const xs = s.values.map((v, k) => out.arrange(`model${k}/${v}`, plan, `${scope}/model${k}`));
    const shapes = xs.map((x, k) => out.op('Shape', [x], {}, `${scope}/model${k}/shape`));
    const sums = xs.map((x, k) => out.reduceSum(x, plan.sampleAxes, `${scope}/model${k}/sum`));
    // Centred on the batch mean before the float32 Gram: see GramBlock.
    const centred = xs.map((x, k) => out.op('Sub', [x, out.reduceMean(x, plan.sampleAxes, `${scope}/model${k}/mean`)], {}, `${scope}/model${k}/centred`));
    const blocks: GramBlock[] = [];
    for (let k = 0; k < xs.length; k++) {
      for (let l = k; l < xs.length; l++)
        blocks.push({ k, l, name: out.gramBlock(centred[k], centred[l], plan, `${scope}/gram${k}${l === k ? '' : `x${l}`}`) });
    }
    return { name: s.name, layout: plan.layout, channelAxis: plan.channelAxis, blocks, sums, shapes };
  });

  const outputs: ValueInfo[] = [];
  for (const r of results) {
    for (const b of r.blocks) outputs.push({ name: b.name, dtype: 'float32', shape: null });
    for (const sum of r.sums) outputs.push({ name: sum, dtype: 'float32', shape: null });
    for (const sh of r.shapes) outputs.push({ name: sh, dtype: 'int64', shape: null });
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

/**
 * Checks a statistics request before any work: at least one model and space, one value per
 * model that exists in that model, valid axes, equal ONNX opsets, one data input per model.
 * Returns each model's data input.
 */
export function checkStatisticsRequest(models: readonly Graph[], spaces: readonly SpaceRequest[], file?: string): ValueInfo[] {
  if (models.length < 1) throw new InvalidArgumentError('statistics need at least one model', { file });
  if (spaces.length < 1) throw new InvalidArgumentError('statistics need at least one space', { file });
  const opset = opsetVersion(models[0]) ?? 0;
  const inputs = models.map((m, k) => {
    const v = opsetVersion(m) ?? 0;
    if (v !== opset) {
      throw new MismatchError(`model ${k} imports ONNX opset ${v}, model 0 imports ${opset}; one graph cannot run both`, {
        file,
        hint: 'export all models with the same opset',
      });
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
  return inputs;
}

/**
 * A graph that runs `model` and outputs only the shapes of the given values (int64, named
 * `probe.<i>`), to learn activation shapes from one batch without copying activations out.
 */
export function shapeProbeGraph(model: Graph, values: readonly string[]): Graph {
  const nodes = [...model.nodes];
  const outputs: ValueInfo[] = values.map((v, i) => {
    nodes.push({ name: `probe.${i}`, opType: 'Shape', domain: '', inputs: [v], outputs: [`probe.${i}`], attributes: [] });
    return { name: `probe.${i}`, dtype: 'int64', shape: null };
  });
  return { ...model, nodes, outputs };
}

interface LayoutPlan {
  layout: StatisticsLayout;
  /** The requested channel axis (≥ 0, or −1 for the last). */
  axis: number;
  /** Axis of X_k holding the channels. */
  channelAxis: number;
  /** Axes of X_k that index samples (summed over). */
  sampleAxes: number[];
}

/**
 * Picks the layout: channels last → `rows` (a free reshape); channels followed by at least
 * max(C, 16) positions → `batched` (a free reshape; the per-sample products have inner
 * dimension S ≥ C, so the [B, C, C] partial results are no bigger than the activation);
 * otherwise, or when the shape is unknown, `columns`.
 */
function chooseLayout(axis: number, shape: readonly number[] | null): LayoutPlan {
  if (axis === -1) return { layout: 'rows', axis, channelAxis: 1, sampleAxes: [0] };
  if (shape && axis < shape.length) {
    const c = shape[axis];
    const positions = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
    if (positions === 1) return { layout: 'rows', axis, channelAxis: 1, sampleAxes: [0] };
    if (positions >= Math.max(c, BATCHED_MIN_POSITIONS)) {
      const lead = Array.from({ length: axis }, (_, i) => i);
      return { layout: 'batched', axis, channelAxis: axis, sampleAxes: [...lead, axis + 1] };
    }
  }
  return { layout: 'columns', axis, channelAxis: 0, sampleAxes: [1] };
}

/** Channels and samples of X_k given its shape. */
export function countsOf(channelAxis: number, shape: readonly number[]): { channels: number; samples: number } {
  const total = shape.reduce((p, d) => p * d, 1);
  const channels = shape[channelAxis];
  return { channels, samples: channels > 0 ? total / channels : 0 };
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
  readonly valueInfo: ValueInfo[] = [];
  readonly initializers = new Map<string, Tensor>();
  private readonly models: Node[][] = [];
  private readonly spaces: { nodes: Node[]; inputs: string[] }[] = [];
  private current: Node[] = [];

  constructor(private readonly opset: number) {}

  addModel(model: Graph, prefix: string, input: string, shared: string): void {
    const rename = (name: string): string => (name === '' ? '' : name === input ? shared : prefix + name);
    const body = renameBody(model, rename);
    this.models.push(body.nodes);
    this.valueInfo.push(...body.valueInfo);
    for (const [k, t] of body.initializers) this.initializers.set(k, t);
  }

  /** Starts the nodes of a space that reads the given model values. */
  beginSpace(inputs: string[]): void {
    this.current = [];
    this.spaces.push({ nodes: this.current, inputs });
  }

  /**
   * All nodes in one topological order that keeps activations short-lived: the models' nodes
   * interleaved step by step (same-architecture models reach a layer together), each space's
   * statistics nodes right after the step that produced its last input. onnxruntime runs
   * nodes in this order, so an activation is consumed while it is still in cache and its
   * buffer is freed early.
   */
  get nodes(): Node[] {
    const producedAt = new Map<string, number>();
    for (const list of this.models) list.forEach((n, i) => n.outputs.forEach((o) => o && producedAt.set(o, i)));
    const readyAt = this.spaces.map((sp) => Math.max(-1, ...sp.inputs.map((v) => producedAt.get(v) ?? -1)));
    const steps = Math.max(0, ...this.models.map((l) => l.length));
    const out: Node[] = [];
    const emitReady = (step: number) => this.spaces.forEach((sp, i) => readyAt[i] === step && out.push(...sp.nodes));
    emitReady(-1);
    for (let step = 0; step < steps; step++) {
      for (const list of this.models) if (step < list.length) out.push(list[step]);
      emitReady(step);
    }
    return out;
  }

  op(opType: string, inputs: string[], attributes: Record<string, AttributeValue>, name: string): string {
    const output = `${name}:0`;
    this.current.push({
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
    this.initializers.set(
      name,
      tensor(
        'int64',
        [values.length],
        BigInt64Array.from(values, (v) => BigInt(v)),
      ),
    );
    return name;
  }

  /**
   * Brings an activation to the layout's X_k (see StatisticsLayout). Reshape targets use 0
   * ("copy this dim") so channel and batch sizes come from the tensor itself, never from a
   * guess: a model with other channel counts is caught, not silently refolded.
   */
  arrange(value: string, plan: LayoutPlan, scope: string): string {
    const axis = plan.axis;
    if (plan.layout === 'rows') return this.op('Flatten', [value], { axis: int(axis) }, `${scope}/rows`);
    const keep = this.constInt64([...new Array<number>(axis + 1).fill(0), -1], `${scope}/shape_split`);
    if (plan.layout === 'batched') return this.reshape(value, keep, `${scope}/batched`);
    const toChannels = this.constInt64([0, -1], `${scope}/shape_c_p`);
    if (axis === 0) return this.reshape(value, toChannels, `${scope}/columns`);
    const split = this.reshape(value, keep, `${scope}/split`);
    const perm = [axis, ...Array.from({ length: axis }, (_, i) => i), axis + 1];
    const moved = this.op('Transpose', [split], { perm: ints(perm) }, `${scope}/transpose`);
    return this.reshape(moved, toChannels, `${scope}/columns`);
  }

  /** Σ over samples of x_k x_lᵀ, [C, C]. The transposes fuse into onnxruntime's MatMul (no copy). */
  gramBlock(xk: string, xl: string, plan: LayoutPlan, name: string): string {
    if (plan.layout === 'rows') {
      const xkT = this.op('Transpose', [xk], { perm: ints([1, 0]) }, `${name}/transpose`);
      return this.op('MatMul', [xkT, xl], {}, name);
    }
    if (plan.layout === 'columns') {
      const xlT = this.op('Transpose', [xl], { perm: ints([1, 0]) }, `${name}/transpose`);
      return this.op('MatMul', [xk, xlT], {}, name);
    }
    const a = plan.axis;
    const lead = Array.from({ length: a }, (_, i) => i);
    const xlT = this.op('Transpose', [xl], { perm: ints([...lead, a + 1, a]) }, `${name}/transpose`);
    const perSample = this.op('MatMul', [xk, xlT], {}, `${name}/per_sample`);
    return lead.length ? this.reduceSum(perSample, lead, name) : perSample;
  }

  reshape(value: string, shape: string, name: string): string {
    return this.op('Reshape', [value, shape], {}, name);
  }

  /** Mean over `axes`, kept as size-1 axes so that it broadcasts against `value`. */
  reduceMean(value: string, axes: number[], name: string): string {
    if (this.opset >= 18) {
      return this.op('ReduceMean', [value, this.constInt64(axes, `${name}/axes`)], { keepdims: int(1) }, name);
    }
    return this.op('ReduceMean', [value], { axes: ints(axes), keepdims: int(1) }, name);
  }

  reduceSum(value: string, axes: number[], name: string): string {
    if (this.opset >= 13) {
      return this.op('ReduceSum', [value, this.constInt64(axes, `${name}/axes`)], { keepdims: int(0) }, name);
    }
    return this.op('ReduceSum', [value], { axes: ints(axes), keepdims: int(0) }, name);
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
