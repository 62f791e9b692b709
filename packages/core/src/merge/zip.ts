import { InvalidArgumentError, MismatchError, NumericError, ShapeError, UnsupportedError } from '../errors.js';
import type { Attribute, AttributeValue, Graph, Node, ValueInfo } from '../graph/graph.js';
import { applySparseAlongAxis, sparseRows, type SparseRows } from '../tensor/apply-along-axis.js';
import { tensor, type Tensor } from '../tensor/tensor.js';
import { resolveStopAt, validateMergeGraph, type MergeGraph, type StopAt } from './merge-graph.js';
import { assertSameStructure } from './same-structure.js';

/** The matcher's answer for one point: merge [C, N·C] and unmerge [N·C, C], row-major, model-major stacking. */
export interface PointTransform {
  merge: Float32Array | Float64Array;
  unmerge: Float32Array | Float64Array;
}

export interface ZipOptions {
  /** The merge graph shared by all models (derived from or declared for the first one). */
  mergeGraph: MergeGraph;
  /** Per point, by index (array) or by name (map); only points up to the stop point are read. */
  transforms: readonly (PointTransform | undefined)[] | ReadonlyMap<string, PointTransform>;
  /** Last zipped point: index, name, `'all'` (default) or `-1`/`'none'`. Must be a stop point. */
  stopAt?: StopAt;
  /** One name per model, used for per-model nodes and outputs (default `model0`, `model1`, …). */
  modelNames?: readonly string[];
}

export interface ZipResult {
  /** One graph: the shared trunk, then each model's own remainder; one output per model and original output. */
  graph: Graph;
  /** Index of the last zipped point (-1: nothing zipped). */
  stop: number;
  /** Nodes computed once for all models, in order. */
  sharedNodes: string[];
  /** Where each model's outputs went: `value` is `${model}:${output}`. */
  outputs: { model: string; output: string; value: string }[];
}

interface Ref {
  axis: number;
  offset: number;
  /** Entries per channel (a channel-major flatten): the block acts as M ⊗ I(repeat). */
  repeat: number;
  point: number;
  role: 'producer' | 'consumer';
}

interface Blocks {
  /** Mₖ as sparse rows [C, C]. */
  merge: SparseRows;
  /** Uₖᵀ as sparse rows [C, C] (applying it to a consumer axis computes Σᵢ old[i]·Uₖ[i, j]). */
  unmergeT: SparseRows;
}

/**
 * The zip operator with partial zipping. For N models of identical structure and a transform
 * per merge point, builds ONE graph:
 *
 * - the shared trunk: every node that writes a zipped point (points ≤ stop), with parameters
 *   Σₖ Tₖ(paramₖ), where Tₖ applies Mₖ = merge[:, kC:(k+1)C] along producer axes and
 *   Uₖ = unmerge[kC:(k+1)C, :] along consumer axes (merge rows average their members, so the
 *   sum is "scale by N, then average"); nodes that compute the same thing in every model
 *   (shape arithmetic, identical preprocessing) are shared too;
 * - per model, the rest of the network under suffixed names (`name@model`): layers that read a
 *   zipped point get Uₖ on their input axis, everything else keeps the model's own weights; task
 *   heads are always per model, so class counts may differ;
 * - one graph output per model and original output, named `${model}:${output}`.
 *
 * With nothing zipped the result computes each input model exactly (the ensemble).
 */
export function zipGraphs(graphs: readonly Graph[], opts: ZipOptions): ZipResult {
  return new Zipper(graphs, opts).run();
}

class Zipper {
  private readonly n: number;
  private readonly names: string[];
  private readonly mg: MergeGraph;
  private readonly stop: number;
  private readonly refs = new Map<string, Ref[]>();
  private readonly blocks: Blocks[][] = [];
  private readonly identicalCache = new Map<string, boolean>();
  /** Running-variance inputs of BatchNormalization nodes: merged as variances (see sharedParam). */
  private readonly runningVariances: ReadonlySet<string>;

  constructor(
    private readonly graphs: readonly Graph[],
    private readonly opts: ZipOptions,
  ) {
    this.n = graphs.length;
    if (this.n < 1) throw new InvalidArgumentError('zip needs at least one model');
    this.names = opts.modelNames ? [...opts.modelNames] : graphs.map((_, k) => `model${k}`);
    if (this.names.length !== this.n) {
      throw new InvalidArgumentError(`${this.names.length} model names for ${this.n} models`);
    }
    if (new Set(this.names).size !== this.n || this.names.some((s) => s === '')) {
      throw new InvalidArgumentError(`model names must be distinct and non-empty, got ${this.names.map((s) => JSON.stringify(s)).join(', ')}`);
    }
    this.mg = opts.mergeGraph;
    this.runningVariances = new Set(
      graphs[0].nodes.filter((n) => n.opType === 'BatchNormalization' && (!n.domain || n.domain === 'ai.onnx') && n.inputs[4]).map((n) => n.inputs[4]),
    );
    assertSameStructure(graphs, this.names, this.mg);
    validateMergeGraph(graphs[0], this.mg);
    this.stop = resolveStopAt(this.mg, opts.stopAt ?? 'all');
    for (let p = 0; p <= this.stop; p++) this.blocks.push(this.pointBlocks(p));
    for (let p = 0; p <= this.stop; p++) {
      const point = this.mg.points[p];
      for (const [role, list] of [
        ['producer', point.producers],
        ['consumer', point.consumers],
      ] as const) {
        for (const r of list) {
          const refs = this.refs.get(r.param) ?? this.refs.set(r.param, []).get(r.param)!;
          refs.push({ axis: r.axis, offset: r.offset ?? 0, repeat: r.repeat ?? 1, point: p, role });
        }
      }
    }
  }

  private pointBlocks(p: number): Blocks[] {
    const point = this.mg.points[p];
    const t = this.transformOf(p);
    const c = point.channels;
    const nc = this.n * c;
    if (t.merge.length !== c * nc || t.unmerge.length !== nc * c) {
      throw new ShapeError(
        `transform has merge of ${t.merge.length} and unmerge of ${t.unmerge.length} entries; ${this.n} models × ${c} channels need ${c * nc} each`,
        { space: point.name },
      );
    }
    for (const m of [t.merge, t.unmerge]) {
      for (let i = 0; i < m.length; i++) {
        if (!Number.isFinite(m[i])) throw new NumericError(`transform has a non-finite entry (${m[i]})`, { space: point.name });
      }
    }
    const out: Blocks[] = [];
    const mk = new Float64Array(c * c);
    for (let k = 0; k < this.n; k++) {
      for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) mk[i * c + j] = t.merge[i * nc + k * c + j];
      out.push({
        merge: sparseRows(mk, c, c),
        unmergeT: sparseRows(t.unmerge.subarray(k * c * c, (k + 1) * c * c), c, c, true),
      });
    }
    return out;
  }

  private transformOf(p: number): PointTransform {
    const point = this.mg.points[p];
    const ts = this.opts.transforms;
    const t = Array.isArray(ts) ? (ts as (PointTransform | undefined)[])[p] : (ts as ReadonlyMap<string, PointTransform>).get(point.name);
    if (!t) {
      throw new InvalidArgumentError(`no transform for merge point ${p}`, {
        space: point.name,
        hint: `points up to the stop point (${this.stop}) need one`,
      });
    }
    return t;
  }

  run(): ZipResult {
    const g0 = this.graphs[0];
    const shared = this.decideSharing();
    const perModelValue = new Set<string>();
    for (const node of g0.nodes) if (!shared.has(node.name)) for (const o of node.outputs) if (o) perModelValue.add(o);
    const outputNames = new Set(g0.outputs.map((o) => o.name));
    const rename = (v: string, k: number) => (outputNames.has(v) ? `${this.names[k]}:${v}` : `${v}@${this.names[k]}`);

    const inits = new Map<string, Tensor>();
    const transformedInTrunk = new Set<string>();
    const nodes: Node[] = [];
    for (const node of g0.nodes) {
      if (!shared.has(node.name)) continue;
      for (const i of node.inputs) if (i && g0.initializers.has(i) && !inits.has(i)) this.sharedParam(i, inits, transformedInTrunk);
      nodes.push(cloneNode(node, node.name, node.inputs, node.outputs));
    }
    const claim = (name: string) => {
      if (inits.has(name) || g0.initializers.has(name)) {
        throw new InvalidArgumentError(`the name "${name}" for a per-model parameter is already taken`, { hint: 'choose other model names' });
      }
    };
    const outputs: ZipResult['outputs'] = [];
    for (let k = 0; k < this.n; k++) {
      const model = this.names[k];
      const gk = this.graphs[k];
      gk.nodes.forEach((node) => {
        if (shared.has(node.name)) return;
        const inputs = node.inputs.map((i) => {
          if (!i) return i;
          if (g0.initializers.has(i)) return this.perModelParam(i, k, inits, transformedInTrunk, claim);
          return perModelValue.has(i) ? rename(i, k) : i;
        });
        const outs = node.outputs.map((o) => (o ? rename(o, k) : o));
        nodes.push(cloneNode(node, `${node.name}@${model}`, inputs, outs));
      });
      for (const o of g0.outputs) {
        const value = `${model}:${o.name}`;
        if (!perModelValue.has(o.name)) {
          nodes.push({ name: `${value}/Identity`, opType: 'Identity', domain: '', inputs: [o.name], outputs: [value], attributes: [] });
        }
        outputs.push({ model, output: o.name, value });
      }
    }

    const valueInfo: ValueInfo[] = g0.valueInfo.filter((vi) => !perModelValue.has(vi.name) && !outputNames.has(vi.name));
    this.graphs.forEach((gk, k) => {
      for (const vi of gk.valueInfo) {
        if (perModelValue.has(vi.name) && !outputNames.has(vi.name)) valueInfo.push({ ...vi, name: rename(vi.name, k) });
      }
    });
    const legacyInputs = g0.inputs.some((i) => g0.initializers.has(i.name));
    const inputs: ValueInfo[] = g0.inputs.filter((i) => !g0.initializers.has(i.name));
    if (legacyInputs) for (const [name, t] of inits) inputs.push({ name, dtype: t.dtype, shape: [...t.shape] });
    const graphOutputs: ValueInfo[] = [];
    this.graphs.forEach((gk, k) => {
      for (const o of gk.outputs) graphOutputs.push({ ...o, name: `${this.names[k]}:${o.name}` });
    });

    const stopName = this.stop < 0 ? 'none' : this.mg.points[this.stop].name;
    const metadata: [string, string][] = [
      ...g0.metadata.filter(([key]) => key !== 'zipit.models' && key !== 'zipit.stop'),
      ['zipit.models', this.names.join(',')],
      ['zipit.stop', stopName],
    ];
    const graph: Graph = {
      ...g0,
      nodes,
      inputs,
      outputs: graphOutputs,
      valueInfo,
      initializers: inits,
      metadata,
    };
    return { graph, stop: this.stop, sharedNodes: g0.nodes.filter((n) => shared.has(n.name)).map((n) => n.name), outputs };
  }

  // ---------------------------------------------------------------- sharing

  /**
   * Nodes computed once. A node that writes a zipped point must be shared (its inputs must then
   * be shared as well, and its non-merge parameters identical across models). A node that does
   * not is shared iff all models compute exactly the same thing there: same attributes, same
   * parameters, shared inputs, and no unmerge to apply. Heads are never shared.
   */
  private decideSharing(): Set<string> {
    const g0 = this.graphs[0];
    // A value may carry several points side by side (a channel concatenation).
    const pointsOfValue = new Map<string, number[]>();
    for (const p of this.mg.points) for (const v of p.values) (pointsOfValue.get(v.value) ?? pointsOfValue.set(v.value, []).get(v.value)!).push(p.index);
    const heads = new Set(this.mg.heads.map((h) => h.node));
    const trunk = new Set<string>([...g0.inputs.map((i) => i.name), ...g0.initializers.keys()]);
    const shared = new Set<string>();
    g0.nodes.forEach((node, i) => {
      const writes = node.outputs.flatMap((o) => pointsOfValue.get(o) ?? []);
      const mustShare = writes.some((p) => p <= this.stop);
      const paramRefs = node.inputs.filter((v) => v && g0.initializers.has(v)).map((v) => this.refs.get(v) ?? []);
      const where = { node: node.name };
      if (mustShare) {
        const late = writes.find((p) => p > this.stop);
        if (late !== undefined) {
          throw new InvalidArgumentError(`node writes both a zipped point and point ${late} ("${this.mg.points[late].name}"), which is not zipped`, where);
        }
        const missing = node.inputs.find((v) => v && !trunk.has(v));
        if (missing) {
          throw new MismatchError(`node writes zipped point "${this.mg.points[writes[0]].name}" but reads "${missing}", which differs between models`, {
            ...where,
            hint: 'preprocessing before the first merge point must be identical in every model; or stop zipping earlier',
          });
        }
        if (!this.sameAttributes(i)) throw new MismatchError('node attributes differ between models', where);
        for (const v of node.inputs) {
          if (v && g0.initializers.has(v) && !this.refs.has(v) && !this.identical(v)) {
            throw new MismatchError(`parameter "${v}" differs between models but is not a merge parameter of any zipped point`, {
              ...where,
              hint: 'a per-channel parameter the merge graph does not list cannot be merged; declare it as a producer',
            });
          }
        }
        shared.add(node.name);
      } else {
        if (paramRefs.some((rs) => rs.some((r) => r.role === 'producer'))) {
          throw new InvalidArgumentError(
            'node reads a producer parameter of a zipped point but writes no zipped point; the merge graph is inconsistent',
            where,
          );
        }
        const same =
          !heads.has(node.name) &&
          !paramRefs.some((rs) => rs.length > 0) &&
          node.inputs.every((v) => !v || trunk.has(v)) &&
          this.sameAttributes(i) &&
          node.inputs.every((v) => !v || !g0.initializers.has(v) || this.identical(v));
        if (same) shared.add(node.name);
      }
      if (shared.has(node.name)) for (const o of node.outputs) if (o) trunk.add(o);
    });
    return shared;
  }

  private identical(param: string): boolean {
    const cached = this.identicalCache.get(param);
    if (cached !== undefined) return cached;
    const t0 = this.graphs[0].initializers.get(param)!;
    const same = this.graphs.every((g) => sameTensor(g.initializers.get(param)!, t0));
    this.identicalCache.set(param, same);
    return same;
  }

  private sameAttributes(nodeIndex: number): boolean {
    const a0 = this.graphs[0].nodes[nodeIndex].attributes;
    return this.graphs.every((g) => sameAttributes(g.nodes[nodeIndex].attributes, a0));
  }

  // ---------------------------------------------------------------- parameters

  /** A parameter of a shared node: Σₖ Tₖ(paramₖ) when a zipped point touches it, else the (identical) original. */
  private sharedParam(name: string, inits: Map<string, Tensor>, transformed: Set<string>): void {
    const refs = this.refs.get(name);
    const t0 = this.graphs[0].initializers.get(name)!;
    if (!refs) {
      inits.set(name, t0);
      return;
    }
    // A BatchNorm running variance is a variance, not a linear parameter: the merged channel
    // Σ mᵢxᵢ of features with correlation 1 has variance (Σ mᵢσᵢ)², so the standard deviations are
    // merged and squared. Exact for twins (a self-merge keeps BatchNorm's normalisation, whatever
    // the merge rows sum to), and closer than Σ mᵢσᵢ² to the variance of any merged channel.
    const variance = this.runningVariances.has(name);
    const acc = new Float64Array(t0.data.length);
    for (let k = 0; k < this.n; k++) {
      const source = this.graphs[k].initializers.get(name)!;
      const tk = this.transform(name, variance ? standardDeviations(source) : source, refs, k);
      for (let i = 0; i < acc.length; i++) acc[i] += tk[i];
    }
    // Merge rows average their members, so summing producer-transformed models averages them;
    // entries no merge reaches (only consumer axes, e.g. the K segment of a fused QKV weight)
    // are averaged explicitly.
    const merged = producerCoverage(t0.shape, refs, this.mg);
    if (merged !== 'all') for (let i = 0; i < acc.length; i++) if (!merged || merged[i] === 0) acc[i] /= this.n;
    if (variance) for (let i = 0; i < acc.length; i++) acc[i] *= acc[i];
    inits.set(name, fromFloat64(t0, acc));
    transformed.add(name);
  }

  /** A parameter of model k's own copy of a node: Uₖ on axes that read zipped points, otherwise its own values. */
  private perModelParam(name: string, k: number, inits: Map<string, Tensor>, transformed: Set<string>, claim: (n: string) => void): string {
    const refs = this.refs.get(name);
    const own = `${name}@${this.names[k]}`;
    if (inits.has(own)) return own;
    if (!refs && this.identical(name) && !transformed.has(name)) {
      if (!inits.has(name)) inits.set(name, this.graphs[0].initializers.get(name)!);
      return name;
    }
    claim(own);
    const tk = this.graphs[k].initializers.get(name)!;
    if (!refs) inits.set(own, tk);
    else if (!this.runningVariances.has(name)) inits.set(own, fromFloat64(tk, this.transform(name, tk, refs, k)));
    else
      inits.set(
        own,
        fromFloat64(
          tk,
          this.transform(name, standardDeviations(tk), refs, k).map((s) => s * s),
        ),
      );
    return own;
  }

  /** Tₖ(t): the model's merge block along producer axes, its unmerge block along consumer axes. */
  private transform(name: string, t: Tensor, refs: readonly Ref[], k: number): Float64Array {
    if (t.dtype !== 'float32' && t.dtype !== 'float64') {
      throw new UnsupportedError(`merge parameter "${name}" has dtype ${t.dtype}; only float32/float64 parameters can be merged`);
    }
    const shape = t.shape;
    let cur = Float64Array.from(t.data as Float32Array | Float64Array);
    const axes = [...new Set(refs.map((r) => r.axis))].sort((a, b) => a - b);
    for (const axis of axes) {
      const segments = refs.filter((r) => r.axis === axis);
      const e = this.axisMatrix(name, shape[axis], segments, k);
      const next = new Float64Array(cur.length);
      applySparseAlongAxis(next, e, cur, shape, axis);
      cur = next;
    }
    return cur;
  }

  /** The matrix for one axis: the point's block where a segment sits, identity elsewhere. */
  private axisMatrix(name: string, size: number, segments: readonly Ref[], k: number): SparseRows {
    const block = (r: Ref) => (r.role === 'producer' ? this.blocks[r.point][k].merge : this.blocks[r.point][k].unmergeT);
    if (segments.length === 1 && segments[0].offset === 0 && segments[0].repeat === 1 && block(segments[0]).rows === size) return block(segments[0]);
    const owner = new Int32Array(size).fill(-1);
    segments.forEach((r, s) => {
      const c = block(r).rows * r.repeat;
      for (let i = r.offset; i < r.offset + c; i++) {
        if (owner[i] !== -1) throw new InvalidArgumentError(`parameter "${name}" has overlapping merge segments on one axis`);
        owner[i] = s;
      }
    });
    const rowPtr = new Int32Array(size + 1);
    const cols: number[] = [];
    const vals: number[] = [];
    for (let i = 0; i < size; i++) {
      rowPtr[i] = cols.length;
      const s = owner[i];
      if (s === -1) {
        cols.push(i);
        vals.push(1);
        continue;
      }
      const r = segments[s];
      const b = block(r);
      // Entry i is copy `within` of channel `row`; it mixes the same copy of the other channels.
      const row = Math.floor((i - r.offset) / r.repeat);
      const within = (i - r.offset) % r.repeat;
      for (let p = b.rowPtr[row]; p < b.rowPtr[row + 1]; p++) {
        cols.push(b.colIdx[p] * r.repeat + within + r.offset);
        vals.push(b.values[p]);
      }
    }
    rowPtr[size] = cols.length;
    return { rows: size, cols: size, rowPtr, colIdx: Int32Array.from(cols), values: Float64Array.from(vals) };
  }
}

// ---------------------------------------------------------------- helpers

/**
 * Which entries of a parameter some producer segment transforms: `'all'` when a producer covers
 * a whole axis, `null` when there is no producer, otherwise a 0/1 mask over the entries.
 */
function producerCoverage(shape: readonly number[], refs: readonly Ref[], mg: MergeGraph): 'all' | Uint8Array | null {
  const producers = refs.filter((r) => r.role === 'producer');
  if (producers.length === 0) return null;
  const span = (r: Ref) => mg.points[r.point].channels * r.repeat;
  if (producers.some((r) => r.offset === 0 && span(r) === shape[r.axis])) return 'all';
  const size = shape.reduce((a, b) => a * b, 1);
  const mask = new Uint8Array(size);
  for (const r of producers) {
    const inner = shape.slice(r.axis + 1).reduce((a, b) => a * b, 1);
    const dim = shape[r.axis];
    for (let i = 0; i < size; i++) {
      const at = Math.floor(i / inner) % dim;
      if (at >= r.offset && at < r.offset + span(r)) mask[i] = 1;
    }
  }
  return mask;
}

/** √v of a float variance tensor (negative entries, which no variance has, count as 0). */
function standardDeviations(t: Tensor): Tensor {
  if (t.dtype !== 'float32' && t.dtype !== 'float64') return t;
  return tensor(
    'float64',
    t.shape,
    Float64Array.from(t.data as Float32Array | Float64Array, (v) => Math.sqrt(Math.max(v, 0))),
  );
}

function fromFloat64(like: Tensor, data: Float64Array): Tensor {
  return like.dtype === 'float64' ? tensor('float64', like.shape, data) : tensor('float32', like.shape, Float32Array.from(data));
}

function cloneNode(node: Node, name: string, inputs: string[], outputs: string[]): Node {
  const out: Node = { ...node, name, inputs: [...inputs], outputs: [...outputs], attributes: node.attributes };
  return out;
}

function sameTensor(a: Tensor, b: Tensor): boolean {
  if (a === b) return true;
  if (a.dtype !== b.dtype || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) return false;
  const x = a.data as ArrayLike<unknown>;
  const y = b.data as ArrayLike<unknown>;
  if (x.length !== y.length) return false;
  if (ArrayBuffer.isView(x) && ArrayBuffer.isView(y)) {
    const bx = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
    const by = new Uint8Array(y.buffer, y.byteOffset, y.byteLength);
    if (bx.length !== by.length) return false;
    for (let i = 0; i < bx.length; i++) if (bx[i] !== by[i]) return false;
    return true;
  }
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function sameAttributes(a: readonly Attribute[], b: readonly Attribute[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  return a.every((x, i) => x.name === b[i].name && sameAttributeValue(x.value, b[i].value));
}

function sameAttributeValue(a: AttributeValue, b: AttributeValue): boolean {
  if (a.type !== b.type) return false;
  switch (a.type) {
    case 'tensor':
      return sameTensor(a.value, b.value as Tensor);
    case 'tensors': {
      const bs = b.value as Tensor[];
      return a.value.length === bs.length && a.value.every((t, i) => sameTensor(t, bs[i]));
    }
    case 'graph':
    case 'graphs':
    case 'opaque':
      return a.value === b.value;
    case 'floats':
    case 'ints':
    case 'strings': {
      const bs = b.value as unknown[];
      return a.value.length === bs.length && (a.value as unknown[]).every((v, i) => Object.is(v, bs[i]));
    }
    default:
      return Object.is(a.value, b.value);
  }
}
