import { argmax, InvalidArgumentError, ShapeError, UnsupportedError, tensor, type Graph, type Tensor } from '@zipit/core';
import type { Batches, PassOptions } from './batches.js';
import { runModel } from './run-model.js';

export interface EvaluateOptions extends PassOptions {
  /** Outputs to evaluate, each [B, classes] (default: every graph output). */
  outputs?: readonly string[];
  /** Keep every batch's logits and return them concatenated (default true). */
  keepLogits?: boolean;
  /** Called once per batch, in order; may be async (the next batch waits). */
  onBatch?: (b: EvaluatedBatch) => void | Promise<void>;
}

export interface EvaluatedBatch {
  index: number;
  /** Index of the batch's first sample in the dataset. */
  offset: number;
  /** Per output, float32 [B, classes]. */
  logits: Tensor<'float32'>[];
  /** Per output, the argmax class of each sample (first maximum on ties). */
  predictions: Int32Array[];
  labels?: BigInt64Array;
}

export interface Evaluation {
  outputs: string[];
  samples: number;
  /** Per output, float32 [samples, classes]; null when `keepLogits` is false. */
  logits: Tensor<'float32'>[] | null;
  /** All labels in dataset order, or null when the batches carry none. */
  labels: BigInt64Array | null;
}

/**
 * Runs a (possibly multi-head) classifier over labelled batches and hands its logits, per
 * output, to the caller: concatenated at the end and/or streamed per batch with argmax
 * predictions, for core's metrics (per-task and joint accuracy) to consume. A model with a fixed
 * batch size gets batches of that size, the last one padded (every sample is evaluated once).
 */
export async function evaluateModel(graph: Graph, batches: Batches, opts: EvaluateOptions): Promise<Evaluation> {
  const outputs = [...(opts.outputs ?? graph.outputs.map((o) => o.name))];
  if (outputs.length === 0) throw new InvalidArgumentError('nothing to evaluate: the model has no outputs', { file: opts.file });
  const keep = opts.keepLogits ?? true;
  const chunks: Float32Array[][] = outputs.map(() => []);
  const classes: number[] = [];
  const labelChunks: BigInt64Array[] = [];
  let samples = 0;
  let batchesSeen = 0;
  for await (const { index, batch, values } of runModel(graph, batches, { ...opts, fetch: outputs, remainder: 'pad' })) {
    const b = batch.x.shape[0];
    const logits = outputs.map((name, k) => {
      const t = asLogits(values[name], name, b, opts.file);
      if (index === 0) classes.push(t.shape[1]);
      else if (classes[k] !== t.shape[1]) throw new ShapeError(`output "${name}" changed from ${classes[k]} to ${t.shape[1]} classes`, { file: opts.file });
      if (keep) chunks[k].push(t.data);
      return t;
    });
    if (index > 0 && (batch.y !== undefined) !== labelChunks.length > 0) {
      throw new InvalidArgumentError(`batch ${index}: some batches carry labels and others do not`, { file: opts.file });
    }
    if (batch.y) labelChunks.push(batch.y);
    if (opts.onBatch) {
      await opts.onBatch({ index, offset: samples, logits, predictions: logits.map(argmaxRows), labels: batch.y });
    }
    samples += b;
    batchesSeen++;
  }
  if (batchesSeen === 0) throw new InvalidArgumentError('the dataset is empty: there are no batches to evaluate', { file: opts.file });
  return {
    outputs,
    samples,
    logits: keep ? chunks.map((c, k) => tensor('float32', [samples, classes[k]], concat(c, samples * classes[k]))) : null,
    labels: labelChunks.length ? concatLabels(labelChunks, samples) : null,
  };
}

/** Argmax along the last axis of a [B, K] tensor; the first maximum wins. */
export function argmaxRows(t: Tensor<'float32'>): Int32Array {
  const [rows, cols] = t.shape;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) out[r] = argmax(t.data, r * cols, cols);
  return out;
}

function asLogits(t: Tensor, name: string, batch: number, file: string | undefined): Tensor<'float32'> {
  if (t.shape.length !== 2 || t.shape[0] !== batch) {
    throw new ShapeError(`output "${name}" has shape [${t.shape.join(', ')}], expected [${batch}, classes]`, { file });
  }
  if (t.dtype === 'float32') return t as Tensor<'float32'>;
  if (t.dtype === 'float64') return tensor('float32', t.shape, Float32Array.from(t.data as Float64Array));
  throw new UnsupportedError(`output "${name}" is ${t.dtype}; logits must be float32 or float64`, { file });
}

function concat(chunks: Float32Array[], n: number): Float32Array {
  const out = new Float32Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function concatLabels(chunks: BigInt64Array[], n: number): BigInt64Array {
  const out = new BigInt64Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
