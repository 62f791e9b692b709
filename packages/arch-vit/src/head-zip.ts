import { InvalidArgumentError, polarFactor, type Matcher, type MatcherParams, type MatchResult } from '@zipit/core';

/** One per-head space of an attention layer: its covariance [N·C, N·C] (model-major) and channels per head. */
export interface HeadSpace {
  covariance: Float32Array | Float64Array;
  headDim: number;
}

/**
 * ZipIt! with attention heads as the units, within and across models: every pair of heads (of
 * any models, the same model included) is scored by how well one rotates onto the other — the
 * Procrustes alignment Σ_spaces ‖Σ_uw‖_* / √(tr Σ_uu · tr Σ_ww) (the nuclear norm of their
 * cross-covariance, normalised like a correlation; 1 for a rotated copy), averaged over the
 * layer's spaces (Q·Kᵀ and V) — and `matcher` (ZipIt!, on these scores as a unit-diagonal
 * similarity) groups the N·H heads into H merged heads. Each merged head averages its members
 * rotated onto its first member (per space, polar factor of their cross-covariance); each member
 * reads it back rotated (unmerge Rᵀ). Two heads of one model may so become one, where ZipIt!
 * finds them more alike than any head of the other model.
 *
 * Returns one result per space, block-diagonal over merged heads (heads stay whole).
 */
export function zipHeads(spaces: readonly HeadSpace[], numModels: number, heads: number, matcher: Matcher, params?: MatcherParams): MatchResult[] {
  const n = numModels;
  const units = n * heads;
  const score = new Float64Array(units * units);
  const cross = (s: HeadSpace, u: number, w: number): Float64Array => {
    const d = s.headDim;
    const c = heads * d;
    const o = n * c;
    const [ru, rw] = [start(u, heads, c, d), start(w, heads, c, d)];
    const a = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) a[i * d + j] = s.covariance[(ru + i) * o + rw + j];
    return a;
  };
  for (const s of spaces) {
    if (s.covariance.length !== (n * heads * s.headDim) ** 2) {
      throw new InvalidArgumentError(`a covariance of ${s.covariance.length} entries does not fit ${n} models × ${heads} heads of ${s.headDim}`);
    }
    const d = s.headDim;
    const trace = Float64Array.from({ length: units }, (_, u) => {
      const a = cross(s, u, u);
      let t = 0;
      for (let i = 0; i < d; i++) t += a[i * d + i];
      return t;
    });
    for (let u = 0; u < units; u++) {
      for (let w = u + 1; w < units; w++) {
        const a = cross(s, u, w);
        const r = polarFactor(a, d);
        let nuclear = 0;
        for (let e = 0; e < d * d; e++) nuclear += a[e] * r[e];
        const v = nuclear / Math.sqrt(Math.max(trace[u] * trace[w], 1e-30)) / spaces.length;
        score[u * units + w] += v;
        score[w * units + u] += v;
      }
    }
  }
  for (let u = 0; u < units; u++) score[u * units + u] = 1;
  const grouping = matcher.match(score, n, params);
  const groups: number[][] = Array.from({ length: heads }, () => []);
  for (let u = 0; u < units; u++) {
    for (let g = 0; g < heads; g++) if (grouping.unmerge[u * heads + g] !== 0) groups[g].push(u);
  }
  return spaces.map((s) => {
    const d = s.headDim;
    const c = heads * d;
    const o = n * c;
    const merge = new Float32Array(c * o);
    const unmerge = new Float32Array(o * c);
    groups.forEach((members, g) => {
      if (members.length === 0) throw new InvalidArgumentError(`merged head ${g} has no member`);
      for (const u of members) {
        const r = u === members[0] ? identity(d) : polarFactor(cross(s, members[0], u), d);
        const col = start(u, heads, c, d);
        for (let i = 0; i < d; i++) {
          for (let j = 0; j < d; j++) {
            merge[(g * d + i) * o + col + j] = r[i * d + j] / members.length;
            unmerge[(col + j) * c + g * d + i] = r[i * d + j];
          }
        }
      }
    });
    return { merge, unmerge, channels: c, numModels: n };
  });
}

/** First stacked channel of unit u (model ⌊u/H⌋, head u mod H). */
function start(u: number, heads: number, c: number, d: number): number {
  return Math.floor(u / heads) * c + (u % heads) * d;
}

function identity(d: number): Float64Array {
  const m = new Float64Array(d * d);
  for (let i = 0; i < d; i++) m[i * d + i] = 1;
  return m;
}
