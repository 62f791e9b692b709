/** One axis of an ONNX Slice: the first index taken, the step, and how many elements. */
export interface SliceBounds {
  start: number;
  step: number;
  count: number;
}

/**
 * ONNX Slice semantics for one axis of length `dim`: negative `start`/`end` count from the end,
 * then both are clamped — to [0, dim] for a positive step, to [0, dim − 1] and [−1, dim − 1] for a
 * negative one — and the slice takes ⌈(end − start) / step⌉ elements (none when that is ≤ 0).
 * The one implementation for shape inference, constant folding and plugins.
 */
export function sliceBounds(start: number, end: number, step: number, dim: number): SliceBounds {
  if (step === 0) throw new RangeError('slice step 0');
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
  } else {
    s = Math.min(Math.max(s, 0), dim - 1);
    e = Math.min(Math.max(e, -1), dim - 1);
  }
  return { start: s, step, count: Math.max(0, Math.ceil((e - s) / step)) };
}
