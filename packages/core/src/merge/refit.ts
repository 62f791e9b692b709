import { InvalidArgumentError } from '../errors.js';
import type { Graph } from '../graph/graph.js';
import { tensor } from '../tensor/tensor.js';

/**
 * Least-squares refitting of a zipped model's layers (after PLeaS, Nasery et al., CVPR 2024:
 * merge by alignment, then solve each merged layer's weights by least squares on data). The
 * pure parts: which layers an architecture lets a refit touch ({@link RefitPlan}, declared by the
 * plugin's `refitLayers`), the normal equations ({@link LinearFit}) and reading/writing a layer's
 * weights. The pass over data is @zipit/pipeline's `refitLayers`.
 */

/** One linear layer a refit may solve: y = W·x + b over the last (channel) axis of its input. */
export interface RefitLayer {
  /** The node computing W·x (MatMul or Gemm); in a merged graph the trunk keeps this name. */
  node: string;
  /** The node's data input (x, channels last). */
  input: string;
  /** The layer's output after its bias. */
  output: string;
  weight: string;
  bias?: string;
  /** Axis of the weight holding the input channels (0: a MatMul's [in, out]; 1: a Gemm's [out, in]). */
  inAxis: number;
  inChannels: number;
  outChannels: number;
}

/** What a refit of one architecture walks: the layers in graph order and the classifier head. */
export interface RefitPlan {
  layers: RefitLayer[];
  /**
   * Linear layers that, once the models are zipped up to a stop point before them, are per model
   * and hold that model's unmerge Uₖ (a ViT's stream junctions). A refit solves the first one
   * each model has (renamed `${node}@${model}`) so that it maps the merged features onto that
   * model's own: the least-squares decoder in place of Uₖ.
   */
  unmerge?: RefitLayer[];
  /** The head (one per model in a merged graph, renamed `${node}@${model}`); refitted only when asked. */
  head?: RefitLayer;
}

/**
 * Normal equations of one layer's least squares, accumulated in float64: inputs x [rows, in],
 * targets y [rows, out] (channels last), with a bias column.
 */
export class LinearFit {
  private readonly xtx: Float64Array;
  private readonly xty: Float64Array;
  private rows = 0;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
  ) {
    const a = inChannels + 1;
    this.xtx = new Float64Array(a * a);
    this.xty = new Float64Array(a * outChannels);
  }

  add(x: Float32Array, y: Float32Array): void {
    const [n, o, a] = [this.inChannels, this.outChannels, this.inChannels + 1];
    const rows = x.length / n;
    if (!Number.isInteger(rows) || y.length !== rows * o)
      throw new InvalidArgumentError(`inputs of ${x.length} and targets of ${y.length} values do not pair up as rows of ${n} and ${o}`);
    const row = new Float64Array(a);
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < n; i++) row[i] = x[r * n + i];
      row[n] = 1;
      for (let i = 0; i < a; i++) {
        const xi = row[i];
        if (xi === 0) continue;
        const base = i * a;
        for (let j = i; j < a; j++) this.xtx[base + j] += xi * row[j];
        const yb = i * o;
        for (let j = 0; j < o; j++) this.xty[yb + j] += xi * y[r * o + j];
      }
    }
    this.rows += rows;
  }

  /**
   * argmin ‖[x 1]·[Wᵀ; b] − y‖² + λ·rows·‖W − W₀‖² (the bias unpenalised), with λ = `ridge` × the
   * mean input variance-like diagonal E[x²]; W₀ [out, in] is the prior (the zipped layer).
   * Without `intercept`, for a layer with no bias: argmin ‖x·Wᵀ − y‖² + λ·rows·‖W − W₀‖², b = 0.
   * Returns W [out, in] and b [out].
   */
  solve(w0: Float64Array, ridge: number, intercept = true): { w: Float64Array; b: Float64Array } {
    const [n, o] = [this.inChannels, this.outChannels];
    const a = intercept ? n + 1 : n;
    const full = n + 1;
    if (this.rows === 0) throw new InvalidArgumentError('no rows to fit');
    const m = new Float64Array(a * a);
    for (let i = 0; i < a; i++) for (let j = i; j < a; j++) m[i * a + j] = m[j * a + i] = this.xtx[i * full + j] / this.rows;
    let scale = 0;
    for (let i = 0; i < n; i++) scale += m[i * a + i] / n;
    const lambda = ridge * scale;
    for (let i = 0; i < n; i++) m[i * a + i] += lambda;
    const rhs = new Float64Array(a * o);
    for (let i = 0; i < a; i++) for (let j = 0; j < o; j++) rhs[i * o + j] = this.xty[i * o + j] / this.rows + (i < n ? lambda * w0[j * n + i] : 0);
    const sol = choleskySolve(m, a, rhs, o);
    const w = new Float64Array(o * n);
    const b = new Float64Array(o);
    for (let j = 0; j < o; j++) {
      for (let i = 0; i < n; i++) w[j * n + i] = sol[i * o + j];
      b[j] = intercept ? sol[n * o + j] : 0;
    }
    return { w, b };
  }
}

/** Solves A·X = B for symmetric positive definite A [n, n] and B [n, m] (Cholesky, float64); a tiny jitter keeps it definite. */
function choleskySolve(a: Float64Array, n: number, b: Float64Array, m: number): Float64Array {
  const l = new Float64Array(n * n);
  let jitter = 0;
  for (let i = 0; i < n; i++) jitter = Math.max(jitter, a[i * n + i]);
  jitter *= 1e-10;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j] + (i === j ? jitter : 0);
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        if (!(s > 0)) throw new InvalidArgumentError('the normal equations are not positive definite', { hint: 'raise the ridge' });
        l[i * n + i] = Math.sqrt(s);
      } else l[i * n + j] = s / l[j * n + j];
    }
  }
  const x = Float64Array.from(b);
  for (let c = 0; c < m; c++) {
    for (let i = 0; i < n; i++) {
      let s = x[i * m + c];
      for (let k = 0; k < i; k++) s -= l[i * n + k] * x[k * m + c];
      x[i * m + c] = s / l[i * n + i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = x[i * m + c];
      for (let k = i + 1; k < n; k++) s -= l[k * n + i] * x[k * m + c];
      x[i * m + c] = s / l[i * n + i];
    }
  }
  return x;
}

/** The shape of a layer that reading and writing its weight needs. */
export interface LinearShape {
  inAxis: number;
  inChannels: number;
  outChannels: number;
}

/** A layer's weight as W [out, in] (float64) and bias [out] (zeros without one), read from `graph` under the given parameter names. */
export function readLinear(graph: Graph, l: LinearShape, names: { weight: string; bias?: string }): { w: Float64Array; b: Float64Array } {
  const t = graph.initializers.get(names.weight);
  if (!t) throw new InvalidArgumentError(`no parameter "${names.weight}"`);
  const d = t.data as Float32Array;
  const [n, o] = [l.inChannels, l.outChannels];
  const w = new Float64Array(o * n);
  for (let j = 0; j < o; j++) for (let i = 0; i < n; i++) w[j * n + i] = l.inAxis === 0 ? d[i * o + j] : d[j * n + i];
  const bt = names.bias ? graph.initializers.get(names.bias) : undefined;
  return { w, b: bt ? Float64Array.from(bt.data as Float32Array) : new Float64Array(o) };
}

/** `graph` with a layer's weight (and bias, where it has one) replaced by W [out, in] and b [out]. */
export function writeLinear(graph: Graph, l: LinearShape, names: { weight: string; bias?: string }, w: Float64Array, b: Float64Array): Graph {
  const [n, o] = [l.inChannels, l.outChannels];
  const old = graph.initializers.get(names.weight);
  if (!old) throw new InvalidArgumentError(`no parameter "${names.weight}"`);
  const data = new Float32Array(n * o);
  for (let j = 0; j < o; j++) for (let i = 0; i < n; i++) data[l.inAxis === 0 ? i * o + j : j * n + i] = w[j * n + i];
  const initializers = new Map(graph.initializers);
  initializers.set(names.weight, tensor('float32', old.shape, data));
  if (names.bias) {
    const bt = graph.initializers.get(names.bias);
    if (!bt) throw new InvalidArgumentError(`no parameter "${names.bias}"`);
    initializers.set(names.bias, tensor('float32', bt.shape, Float32Array.from(b)));
  }
  return { ...graph, initializers };
}
