/**
 * Cached row maxima of a square similarity matrix, for the ZipIt matcher: per row the best
 * value and the first column attaining it (in the matcher's tie order), plus the two indexes the matcher needs to touch only
 * rows whose maximum may change — which rows watch a given column (their best sits there), and
 * which rows have a non-positive best — and a tournament tree answering "first row holding the
 * global maximum" in O(1) with O(log n) updates.
 */
export class RowMaxima {
  readonly value: Float64Array;
  readonly column: Int32Array;
  /** Watcher lists: rows whose best column is j, as doubly linked lists headed by head[j]. */
  private readonly head: Int32Array;
  private readonly nextW: Int32Array;
  private readonly prevW: Int32Array;
  /** Rows with a non-positive best (doubly linked, headed by nonPosHead). */
  private nonPosHead = -1;
  private readonly nextN: Int32Array;
  private readonly prevN: Int32Array;
  private readonly inNonPos: Uint8Array;
  /** Tournament tree over rows: tree[node] = winning row (max value, then `prefer`, then smallest index); -1 = none. */
  private readonly tree: Int32Array;
  private readonly leaves: number;

  /**
   * `prefer(value, a, colA, b, colB)`: whether row a's best pair comes before row b's when both
   * have this value (default: never; the smaller row wins either way on identical keys).
   */
  constructor(
    readonly n: number,
    private readonly prefer: (value: number, a: number, colA: number, b: number, colB: number) => boolean = () => false,
  ) {
    this.value = new Float64Array(n).fill(-Infinity);
    this.column = new Int32Array(n).fill(-1);
    this.head = new Int32Array(n).fill(-1);
    this.nextW = new Int32Array(n).fill(-1);
    this.prevW = new Int32Array(n).fill(-1);
    this.nextN = new Int32Array(n).fill(-1);
    this.prevN = new Int32Array(n).fill(-1);
    this.inNonPos = new Uint8Array(n);
    let leaves = 1;
    while (leaves < n) leaves <<= 1;
    this.leaves = leaves;
    this.tree = new Int32Array(2 * leaves).fill(-1);
  }

  /** Sets row k's best without updating the tree (bulk initialisation; call `build` after). */
  init(k: number, value: number, column: number): void {
    this.value[k] = value;
    this.link(k, column);
    if (value <= 0) this.addNonPos(k);
  }

  build(): void {
    const { tree, leaves } = this;
    for (let k = 0; k < this.n; k++) tree[leaves + k] = k;
    for (let node = leaves - 1; node >= 1; node--) tree[node] = this.winner(tree[2 * node], tree[2 * node + 1]);
  }

  set(k: number, value: number, column: number): void {
    this.value[k] = value;
    if (column !== this.column[k]) {
      this.unlink(k);
      this.link(k, column);
    }
    if (value <= 0) this.addNonPos(k);
    else this.removeNonPos(k);
    // Also on an unchanged value: the tie order of the row's best pair may have changed.
    this.update(k);
  }

  /** Removes row k (a dead feature) from every index. */
  remove(k: number): void {
    this.unlink(k);
    this.removeNonPos(k);
    this.column[k] = -1;
    this.value[k] = -Infinity;
    this.tree[this.leaves + k] = -1;
    this.propagate(k);
  }

  /** First row (by `prefer`, then smallest index) holding the largest cached value; -1 when no row is left. */
  top(): number {
    return this.tree[1];
  }

  /** Appends to `out` the rows whose best column is j; returns the new length. */
  collectWatchers(j: number, out: Int32Array, len: number): number {
    for (let k = this.head[j]; k >= 0; k = this.nextW[k]) out[len++] = k;
    return len;
  }

  /** Appends to `out` the rows whose best is ≤ 0; returns the new length. */
  collectNonPositive(out: Int32Array, len: number): number {
    for (let k = this.nonPosHead; k >= 0; k = this.nextN[k]) out[len++] = k;
    return len;
  }

  private winner(a: number, b: number): number {
    if (a < 0) return b;
    if (b < 0) return a;
    const va = this.value[a];
    const vb = this.value[b];
    if (vb !== va) return vb > va ? b : a;
    if (this.prefer(va, b, this.column[b], a, this.column[a])) return b;
    if (this.prefer(va, a, this.column[a], b, this.column[b])) return a;
    return b < a ? b : a;
  }

  private update(k: number): void {
    this.propagate(k);
  }

  private propagate(k: number): void {
    const { tree } = this;
    for (let node = (this.leaves + k) >> 1; node >= 1; node >>= 1) {
      const w = this.winner(tree[2 * node], tree[2 * node + 1]);
      if (tree[node] === w && w !== k) break;
      tree[node] = w;
    }
  }

  private link(k: number, column: number): void {
    this.column[k] = column;
    const h = this.head[column];
    this.prevW[k] = -1;
    this.nextW[k] = h;
    if (h >= 0) this.prevW[h] = k;
    this.head[column] = k;
  }

  private unlink(k: number): void {
    const column = this.column[k];
    if (column < 0) return;
    const p = this.prevW[k];
    const nx = this.nextW[k];
    if (p >= 0) this.nextW[p] = nx;
    else this.head[column] = nx;
    if (nx >= 0) this.prevW[nx] = p;
    this.prevW[k] = -1;
    this.nextW[k] = -1;
  }

  private addNonPos(k: number): void {
    if (this.inNonPos[k]) return;
    this.inNonPos[k] = 1;
    this.prevN[k] = -1;
    this.nextN[k] = this.nonPosHead;
    if (this.nonPosHead >= 0) this.prevN[this.nonPosHead] = k;
    this.nonPosHead = k;
  }

  private removeNonPos(k: number): void {
    if (!this.inNonPos[k]) return;
    this.inNonPos[k] = 0;
    const p = this.prevN[k];
    const nx = this.nextN[k];
    if (p >= 0) this.nextN[p] = nx;
    else this.nonPosHead = nx;
    if (nx >= 0) this.prevN[nx] = p;
  }
}
