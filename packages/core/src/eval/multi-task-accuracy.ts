import { InvalidArgumentError, NumericError, ShapeError } from '../errors.js';

/** Accuracy of a model with one output head per task, as the ZipIt! reference reports it. */
export interface MultiTaskAccuracyResult {
  tasks: string[];
  /** Per task: argmax of that task's own head on that task's data. */
  perTask: number[];
  /** Over the union of all tasks' data: argmax over every head's softmax, all heads together. */
  joint: number;
  /** Mean of `perTask`. */
  average: number;
  /** Samples seen per task. */
  samples: number[];
}

/**
 * Streaming accumulator for per-task and joint accuracy of a multi-head classifier.
 * Task t is answered by head t. A sample of task t with label y (0 … classes(t) − 1) counts as
 *  - per-task correct when argmax(head t logits) = y;
 *  - jointly correct when the largest softmax probability over *all* heads (each softmax taken
 *    over its own head's classes) belongs to head t, class y — the reference's multi-head rule.
 *    Ties go to the first head, then the first class.
 */
export class MultiTaskAccuracy {
  private readonly correct: Float64Array;
  private readonly jointCorrect: Float64Array;
  private readonly seen: Float64Array;

  constructor(
    readonly tasks: readonly string[],
    readonly classes: readonly number[],
  ) {
    if (tasks.length === 0) throw new InvalidArgumentError('accuracy needs at least one task');
    if (classes.length !== tasks.length) throw new InvalidArgumentError(`${tasks.length} tasks but ${classes.length} heads`);
    this.correct = new Float64Array(tasks.length);
    this.jointCorrect = new Float64Array(tasks.length);
    this.seen = new Float64Array(tasks.length);
  }

  /**
   * Adds a batch of task `task`'s data. `heads[h]` holds the logits of head h for the batch,
   * row-major [B, classes[h]]; `labels` the task's labels.
   */
  add(task: number, heads: readonly Float32Array[], labels: BigInt64Array | Int32Array): void {
    const name = this.tasks[task];
    if (name === undefined) throw new InvalidArgumentError(`task index ${task} out of range`);
    if (heads.length !== this.classes.length) throw new ShapeError(`expected ${this.classes.length} heads, got ${heads.length}`);
    const b = labels.length;
    heads.forEach((h, k) => {
      if (h.length !== b * this.classes[k]) {
        throw new ShapeError(`head ${k} has ${h.length} logits for ${b} samples of ${this.classes[k]} classes`);
      }
      // NaN/±Inf logits make every comparison false: accuracies would silently read 0 (or, for
      // the joint rule, disagree with the per-task one even for a single task). Refuse them.
      for (let j = 0; j < h.length; j++) {
        if (!Number.isFinite(h[j])) {
          const c = this.classes[k];
          throw new NumericError(`head ${k} gave a non-finite output (${h[j]}) at class ${j % c} of sample ${Math.floor(j / c)} of a batch of task "${name}"`, {
            hint: "the model's weights or the input data hold NaN or Inf",
          });
        }
      }
    });
    const own = heads[task];
    const kOwn = this.classes[task];
    for (let i = 0; i < b; i++) {
      const y = Number(labels[i]);
      if (!(y >= 0 && y < kOwn) || !Number.isInteger(y)) {
        throw new InvalidArgumentError(`label ${labels[i]} of task "${name}" is out of range for its head of ${kOwn} classes (sample ${i} of the batch)`, {
          hint: 'labels must be remapped to 0 … classes − 1 of their own head',
        });
      }
      if (argmax(own, i * kOwn, kOwn) === y) this.correct[task]++;
      let bestHead = -1;
      let bestClass = -1;
      let bestP = -Infinity;
      for (let h = 0; h < heads.length; h++) {
        const k = this.classes[h];
        const { index, prob } = maxSoftmax(heads[h], i * k, k);
        if (prob > bestP) {
          bestP = prob;
          bestHead = h;
          bestClass = index;
        }
      }
      if (bestHead === task && bestClass === y) this.jointCorrect[task]++;
    }
    this.seen[task] += b;
  }

  result(): MultiTaskAccuracyResult {
    const empty = this.tasks.filter((_, t) => this.seen[t] === 0);
    if (empty.length) throw new InvalidArgumentError(`no samples were evaluated for task(s) ${empty.join(', ')}`);
    const perTask = Array.from(this.correct, (c, t) => c / this.seen[t]);
    const total = this.seen.reduce((a, b) => a + b, 0);
    return {
      tasks: [...this.tasks],
      perTask,
      joint: this.jointCorrect.reduce((a, b) => a + b, 0) / total,
      average: perTask.reduce((a, b) => a + b, 0) / perTask.length,
      samples: Array.from(this.seen),
    };
  }
}

/** Index of the first maximum of x[at … at + k). */
export function argmax(x: Float32Array, at: number, k: number): number {
  let best = 0;
  let bv = x[at];
  for (let j = 1; j < k; j++) {
    if (x[at + j] > bv) {
      bv = x[at + j];
      best = j;
    }
  }
  return best;
}

/** The largest softmax probability of x[at … at + k) and its (first) index. */
function maxSoftmax(x: Float32Array, at: number, k: number): { index: number; prob: number } {
  const index = argmax(x, at, k);
  const m = x[at + index];
  let sum = 0;
  for (let j = 0; j < k; j++) sum += Math.exp(x[at + j] - m);
  return { index, prob: 1 / sum };
}
