import { InvalidArgumentError } from '../errors.js';

/**
 * Linear sum assignment on a dense square cost matrix [n, n] (row-major), minimising
 * Σ cost[i, colForRow[i]]: the shortest augmenting path method of Jonker–Volgenant as
 * formulated by Crouse (2016), the algorithm behind scipy's `linear_sum_assignment`, with the
 * same scan order and tie-breaking so that results agree with scipy on ties. O(n³) worst case.
 * Pass `maximize` to maximise instead. Returns `colForRow`.
 */
export function linearSumAssignment(cost: Float32Array | Float64Array, n: number, maximize = false): Int32Array {
  if (cost.length !== n * n) throw new InvalidArgumentError(`assignment needs a ${n}×${n} matrix, got ${cost.length} elements`);
  const c = new Float64Array(n * n);
  for (let k = 0; k < c.length; k++) {
    const v = maximize ? -cost[k] : cost[k];
    if (Number.isNaN(v) || v === -Infinity) throw new InvalidArgumentError('assignment cost matrix contains NaN or an unbounded entry');
    c[k] = v;
  }
  const u = new Float64Array(n);
  const v = new Float64Array(n);
  const spc = new Float64Array(n);
  const path = new Int32Array(n).fill(-1);
  const col4row = new Int32Array(n).fill(-1);
  const row4col = new Int32Array(n).fill(-1);
  const sr = new Uint8Array(n);
  const sc = new Uint8Array(n);
  const remaining = new Int32Array(n);

  for (let curRow = 0; curRow < n; curRow++) {
    let minVal = 0;
    let numRemaining = n;
    for (let it = 0; it < n; it++) remaining[it] = n - it - 1;
    sr.fill(0);
    sc.fill(0);
    spc.fill(Infinity);
    let sink = -1;
    let i = curRow;
    while (sink === -1) {
      let index = -1;
      let lowest = Infinity;
      sr[i] = 1;
      const row = i * n;
      const base = minVal - u[i];
      for (let it = 0; it < numRemaining; it++) {
        const j = remaining[it];
        const r = base + c[row + j] - v[j];
        if (r < spc[j]) {
          path[j] = i;
          spc[j] = r;
        }
        const s = spc[j];
        if (s < lowest || (s === lowest && row4col[j] === -1)) {
          lowest = s;
          index = it;
        }
      }
      minVal = lowest;
      if (minVal === Infinity) throw new InvalidArgumentError('assignment is infeasible (cost matrix has unbounded entries)');
      const j = remaining[index];
      if (row4col[j] === -1) sink = j;
      else i = row4col[j];
      sc[j] = 1;
      remaining[index] = remaining[--numRemaining];
    }
    u[curRow] += minVal;
    for (let r = 0; r < n; r++) if (sr[r] && r !== curRow) u[r] += minVal - spc[col4row[r]];
    for (let j = 0; j < n; j++) if (sc[j]) v[j] -= minVal - spc[j];
    let j = sink;
    for (;;) {
      const r = path[j];
      row4col[j] = r;
      const prev = col4row[r];
      col4row[r] = j;
      j = prev;
      if (r === curRow) break;
    }
  }
  return col4row;
}
