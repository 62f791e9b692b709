import { describe, expect, it } from 'vitest';
import {
  asGraphMatcher,
  deriveMergeGraph,
  permuteModel,
  randomPointPermutations,
  resolveMatcherParams,
  SeededRandom,
  type AnyMatcher,
  type Graph,
  type MatcherParams,
  type MatchResult,
  type MergeGraph,
} from '@zipit/core';
import { buildTokenMlp } from '@zipit/core/testing';
import { maxAbsDiff } from './numerics.js';

export interface MatcherSuiteOptions {
  /**
   * The matcher assigns every stacked feature to one merged feature (0/1 unmerge, merge rows
   * averaging members), as ZipIt!, permutation and averaging do. Default true; false for dense
   * methods (rotations), which then face only the functional checks.
   */
  assignment?: boolean;
  /** The matcher finds permutations between models (default true; false for plain averaging, which pairs features by index). */
  recoversPermutations?: boolean;
  /** Overrides of the defaults for the two-model checks. */
  params?: MatcherParams;
  /** Overrides of the defaults for three copies (default: none). */
  threeModelParams?: MatcherParams;
  /** The model and merge graph the matcher runs on (default: core's seeded token MLP, hidden 16, derived merge graph). */
  model?: () => { graph: Graph; mergeGraph: MergeGraph };
  /** Samples of the synthetic features per point (default 512). */
  samples?: number;
  /** Max |Δ| of reconstructed features (default 1e-4; features are standard normal). */
  tolerance?: number;
}

/**
 * The conformance suite of a matcher (per-point or graph-level), as a vitest `describe` block.
 * It runs the matcher the way the pipeline does (`asGraphMatcher`, defaults resolved) on a small
 * model and synthetic statistics: every point's features are seeded standard-normal samples X,
 * and a permuted copy P(A) of the model (weights permuted by `permuteModel`) has features P·X,
 * so covariance- and weight-based methods see the same permutation. Checks:
 *
 * - assignment matchers: every stacked feature goes to exactly one merged feature, and every
 *   merge row averages its members (1/size each, up to the reference's 1e-5);
 * - self-match is the identity: merging [X; X] and unmerging gives back X for each model;
 * - a permuted copy is recovered: merging [X; P·X] and unmerging gives back each model's features;
 * - three copies: the same with [X; X; X].
 */
export function describeMatcher(matcher: AnyMatcher, opts: MatcherSuiteOptions = {}): void {
  const gm = asGraphMatcher(matcher);
  const tol = opts.tolerance ?? 1e-4;
  const samples = opts.samples ?? 512;
  const setup = () => {
    if (opts.model) return opts.model();
    const graph = buildTokenMlp({ seed: 1, hidden: 16, depth: 2 });
    return { graph, mergeGraph: deriveMergeGraph(graph) };
  };

  describe(`matcher conformance: ${matcher.name}`, () => {
    const { graph: a, mergeGraph: mg } = setup();
    const rng = new SeededRandom(17);
    /** Seeded standard-normal features [C, samples] per point (shared transforms share features). */
    const shared = new Map<string, Float64Array>();
    const features = mg.points.map((p) => {
      const key = p.shareTransform;
      if (key !== undefined && shared.has(key)) return shared.get(key)!;
      const x = Float64Array.from({ length: p.channels * samples }, () => rng.normal());
      if (key !== undefined) shared.set(key, x);
      return x;
    });

    /** Runs the matcher on models whose point-i features are `perms[k][i]` applied to X (identity when absent). */
    const runOn = (graphs: readonly Graph[], perms: (Int32Array[] | undefined)[], params?: MatcherParams) => {
      const stacked = mg.points.map((p, i) =>
        stack(
          features[i],
          p.channels,
          samples,
          perms.map((ps) => ps?.[i]),
        ),
      );
      const results = gm.matchGraph({
        mergeGraph: mg,
        numModels: graphs.length,
        graphs,
        covariance: (i) => covariance(stacked[i], graphs.length * mg.points[i].channels, samples),
        params: resolveMatcherParams(gm, params),
        upTo: mg.points.length - 1,
        alignBlocks: gm.name !== 'average',
      });
      return { stacked, results };
    };

    const expectReconstructs = (stacked: Float64Array[], results: (MatchResult | undefined)[], numModels: number, what: string) => {
      mg.points.forEach((p, i) => {
        const r = results[i];
        expect(r, `${what}: ${p.name} has a result`).toBeDefined();
        const c = p.channels;
        expect(r!.merge.length, `${p.name}: merge is [C, N·C]`).toBe(c * numModels * c);
        expect(r!.unmerge.length, `${p.name}: unmerge is [N·C, C]`).toBe(numModels * c * c);
        const merged = matmul(r!.merge, stacked[i], c, numModels * c, samples);
        for (let k = 0; k < numModels; k++) {
          const back = matmul(r!.unmerge.subarray(k * c * c, (k + 1) * c * c), merged, c, c, samples);
          const own = stacked[i].subarray(k * c * samples, (k + 1) * c * samples);
          expect(maxAbsDiff(back, own), `${what}: ${p.name}, model ${k} features after merge and unmerge`).toBeLessThanOrEqual(tol);
        }
        if (opts.assignment ?? true) expectAssignment(r!, c, numModels, `${what}: ${p.name}`);
      });
    };

    it('self-match is the identity: zip(X, X) unmerges to X', () => {
      const { stacked, results } = runOn([a, a], [undefined, undefined], opts.params);
      expectReconstructs(stacked, results, 2, 'self-match');
    });

    const permutedCopy = () => {
      const perms = randomPointPermutations(mg, new SeededRandom(5));
      expect(perms.some((p) => p.some((v, i) => v !== i))).toBe(true);
      return runOn([a, permuteModel(a, mg, perms)], [undefined, perms], opts.params);
    };

    if (opts.recoversPermutations === false) {
      it('matches a permuted copy with a well-formed result (recovering it is not claimed)', () => {
        const { results } = permutedCopy();
        mg.points.forEach((p, i) => {
          const r = results[i];
          expect(r, `permuted copy: ${p.name} has a result`).toBeDefined();
          expect(r!.merge.length, `${p.name}: merge is [C, N·C]`).toBe(p.channels * 2 * p.channels);
          expect(r!.unmerge.length, `${p.name}: unmerge is [N·C, C]`).toBe(2 * p.channels * p.channels);
          if (opts.assignment ?? true) expectAssignment(r!, p.channels, 2, `permuted copy: ${p.name}`);
        });
      });
    } else {
      it("recovers a permuted copy: zip(X, P·X) unmerges to each model's features", () => {
        const { stacked, results } = permutedCopy();
        expectReconstructs(stacked, results, 2, 'permuted copy');
      });
    }

    it('merges three copies into the model', () => {
      const { stacked, results } = runOn([a, a, a], [undefined, undefined, undefined], opts.threeModelParams ?? opts.params);
      expectReconstructs(stacked, results, 3, 'three copies');
    });
  });
}

/** Every stacked feature in exactly one merged feature (0/1 unmerge rows), every merge row averaging its members. */
function expectAssignment(r: MatchResult, c: number, numModels: number, what: string): void {
  const o = numModels * c;
  const size = new Int32Array(c);
  const groupOf = new Int32Array(o);
  for (let row = 0; row < o; row++) {
    let ones = 0;
    for (let f = 0; f < c; f++) {
      const u = r.unmerge[row * c + f];
      expect(u === 0 || u === 1, `${what}: unmerge[${row}, ${f}] = ${u} is not 0/1`).toBe(true);
      if (u === 1) {
        ones++;
        groupOf[row] = f;
      }
    }
    expect(ones, `${what}: stacked feature ${row} is assigned ${ones} times`).toBe(1);
    size[groupOf[row]]++;
  }
  for (let g = 0; g < c; g++) {
    expect(size[g], `${what}: merged feature ${g} has no member`).toBeGreaterThan(0);
    for (let row = 0; row < o; row++) {
      const m = r.merge[g * o + row];
      if (groupOf[row] === g) expect(Math.abs(m * size[g] - 1), `${what}: merge[${g}, ${row}] = ${m}, members ${size[g]}`).toBeLessThanOrEqual(1e-4);
      else expect(m, `${what}: merge[${g}, ${row}] outside the group`).toBe(0);
    }
  }
}

/** Stacked features [N·C, S]: model k holds X with its rows permuted by perms[k] (row c = X row perms[k][c]). */
function stack(x: Float64Array, c: number, s: number, perms: (Int32Array | undefined)[]): Float64Array {
  const out = new Float64Array(perms.length * c * s);
  perms.forEach((perm, k) => {
    for (let row = 0; row < c; row++) out.set(x.subarray((perm ? perm[row] : row) * s, ((perm ? perm[row] : row) + 1) * s), (k * c + row) * s);
  });
  return out;
}

/** Covariance [n, n] of the rows of x [n, s] (population, about the row means). */
function covariance(x: Float64Array, n: number, s: number): Float64Array {
  const centred = new Float64Array(x.length);
  for (let i = 0; i < n; i++) {
    let mean = 0;
    for (let t = 0; t < s; t++) mean += x[i * s + t];
    mean /= s;
    for (let t = 0; t < s; t++) centred[i * s + t] = x[i * s + t] - mean;
  }
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let acc = 0;
      for (let t = 0; t < s; t++) acc += centred[i * s + t] * centred[j * s + t];
      out[i * n + j] = out[j * n + i] = acc / s;
    }
  }
  return out;
}

/** a [m, k] · b [k, n] in float64. */
function matmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < k; j++) {
      const v = a[i * k + j];
      if (v === 0) continue;
      for (let t = 0; t < n; t++) out[i * n + t] += v * b[j * n + t];
    }
  }
  return out;
}
