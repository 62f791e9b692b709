import { beforeAll, describe, expect, it } from 'vitest';
import {
  builtinMatchers,
  deriveMergeGraph,
  diffMergeGraphs,
  permuteModel,
  randomPointPermutations,
  SeededRandom,
  validateMergeGraph,
  zipGraphs,
  type AnyMatcher,
  type Architecture,
  type Executor,
  type Graph,
  type MatcherParams,
  type MergeGraph,
  type PointTransform,
  type ReferenceModel,
  type StopAt,
  type Tensor,
} from '@zipit/core';
import { readOnnx, writeOnnx } from '@zipit/io-onnx';
import { calibrate } from './calibrate.js';
import { matchAll } from './match.js';
import { maxAbsDiff, pairing } from './numerics.js';
import { suiteRuntime } from './runtime.js';

export interface ArchitectureSuiteOptions {
  /** Models to check (default: the plugin's `references`). */
  references?: readonly ReferenceModel[];
  /** Build every reference with BatchNorm kept (`false`) and/or folded (`true`); default both. Families without BatchNorm pass `[false]`. */
  foldedBatchNorm?: readonly boolean[];
  /** The declared merge graph must equal `deriveMergeGraph`'s (default true; false for families derivation does not cover, e.g. attention). */
  derivable?: boolean;
  /** Calibrate BatchNorm/Conv scales on random images before testing (default true; see `calibrate`). */
  calibrate?: boolean;
  /** Matchers for the self-merge and three-model checks (default: core's built-in matchers). */
  matchers?: readonly AnyMatcher[];
  /** Matchers that must recover a permuted copy exactly, with their parameters (default: permute; zipit with α = 0.01, β = 0). */
  recovers?: readonly { matcher: AnyMatcher; params?: MatcherParams }[];
  /** Matchers for merging three copies (default: the recovering ones, which are cheap; dense ones cost a decomposition per point and model). */
  threeModelMatchers?: readonly AnyMatcher[];
  /** Parameters per matcher name for merging three copies (default zipit α = 1, β = 0: see the three-model check). */
  threeModelParams?: Readonly<Record<string, MatcherParams>>;
  /** The runtime everything runs on (default onnxruntime-node). */
  executor?: Executor;
  /** Images per batch (default 32). */
  samples?: number;
  /**
   * Max |Δ output| of every "equals A" check, relative to the output's scale: |Δ| ≤ tolerance ·
   * max(1, max |A|) (default 1e-4). Relative, because a deep random model amplifies float32
   * rounding of its parameters (one unit in the last place of a merged running variance) in
   * proportion to its outputs; outputs of magnitude ≤ 1 keep the absolute bound.
   */
  tolerance?: number;
  /** Max |Δ output| of "a permuted copy computes A" (default 1e-3: summing a deep model's layer inputs in another order moves outputs by ~3e-4). */
  permutationTolerance?: number;
}

/**
 * The conformance suite of an architecture plugin, as vitest `describe` blocks; call it at the
 * top level of a test file: `describeArchitecture(myArch)`. For every reference model (BatchNorm
 * kept and folded), with the plugin's `prepare` applied as every caller does:
 *
 * - the plugin recognises it, declares a valid merge graph with a head and a stop point, equal
 *   to the automatic derivation (unless `derivable: false`);
 * - the merge graph is complete: a random hidden-unit permutation of every point (heads whole,
 *   residual ties respected) leaves the function unchanged, before and after `prepare`;
 * - zip(A, A) = A for every matcher; zip(A, P(A)) = A for the recovering matchers, which find P
 *   exactly (one-to-one at every point) — fully zipped and at the first stop point;
 * - stopping before the first point reproduces the ensemble of two different models bit for bit;
 * - every stop point exports one ONNX file (writeOnnx → readOnnx) that runs, one output per model;
 * - three models: zip(A, A, A) = A (recovering matchers), and zip(A, B, C) runs.
 */
export function describeArchitecture(arch: Architecture, opts: ArchitectureSuiteOptions = {}): void {
  const runtime = suiteRuntime(opts.executor);
  const tol = opts.tolerance ?? 1e-4;
  const matchers = opts.matchers ?? builtinMatchers;
  const byName = (name: string) => matchers.find((m) => m.name === name);
  const recovers = opts.recovers ?? [
    ...(byName('permute') ? [{ matcher: byName('permute')! }] : []),
    ...(byName('zipit') ? [{ matcher: byName('zipit')!, params: { alpha: 0.01, beta: 0 } }] : []),
  ];
  const threeParams = opts.threeModelParams ?? { zipit: { alpha: 1, beta: 0 } };
  const threeMatchers = opts.threeModelMatchers ?? recovers.map((r) => r.matcher);
  const cases = (opts.references ?? arch.references).flatMap((reference) => (opts.foldedBatchNorm ?? [false, true]).map((folded) => ({ reference, folded })));

  describe.each(
    cases.map((c) => ({
      ...c,
      title: `${arch.name}/${c.reference.name}${(opts.foldedBatchNorm ?? [false, true]).length > 1 ? `, BN ${c.folded ? 'folded' : 'kept'}` : ''}`,
    })),
  )('conformance: $title', ({ reference, folded }) => {
    const shape = reference.input.shape.map((d) => (typeof d === 'number' ? d : (opts.samples ?? 32)));
    const x = new SeededRandom(7).normalTensor(shape) as Tensor<'float32'>;
    const feeds = { [reference.input.name]: x };
    const model = async (seed: number, classes = 10): Promise<{ raw: Graph; graph: Graph }> => {
      let raw = reference.build({ seed, classes, foldedBatchNorm: folded });
      if (opts.calibrate ?? true) raw = await calibrate(raw, new SeededRandom(1000 + seed).normalTensor(shape) as Tensor<'float32'>, runtime);
      return { raw, graph: arch.prepare ? arch.prepare(raw) : raw };
    };
    let other: Promise<{ graph: Graph; out: Record<string, Tensor> }> | undefined;
    /** B: another model of the same structure with 6 classes, and its outputs (built once). */
    const modelB = () => (other ??= model(2, 6).then(async ({ graph }) => ({ graph, out: await run(graph) })));
    let raw: Graph;
    let a: Graph;
    let mg: MergeGraph;
    let outputs: string[];
    let ra: Record<string, Tensor>;
    const run = async (g: Graph) => runtime.run(g, feeds);
    /** Output model k of a zipped graph equals `want` (default A's outputs). */
    const expectOutputs = (out: Record<string, Tensor>, k: number, what: string, want: Record<string, Tensor> = ra, limit = tol) => {
      for (const o of outputs) {
        const got = out[`model${k}:${o}`];
        expect(got, `${what}: output model${k}:${o}`).toBeDefined();
        const scale = (want[o].data as Float32Array).reduce((m, v) => Math.max(m, Math.abs(v)), 1);
        expect(maxAbsDiff(got.data as Float32Array, want[o].data as Float32Array), `${what}, model ${k}, ${o}`).toBeLessThanOrEqual(limit * scale);
      }
    };
    const zipRun = async (graphs: readonly Graph[], ts: readonly PointTransform[], stopAt: StopAt) =>
      run(zipGraphs(graphs, { mergeGraph: mg, transforms: ts, stopAt }).graph);

    beforeAll(async () => {
      ({ raw, graph: a } = await model(1));
      mg = arch.mergeGraph(a);
      outputs = a.outputs.map((o) => o.name);
      ra = await run(a);
    });

    it('is recognised, and declares a valid merge graph (equal to the derived one unless underivable)', () => {
      for (const g of arch.prepare ? [raw, a] : [a]) {
        expect(arch.recognise(g), 'recognise').toMatchObject({ match: true });
        const declared = arch.mergeGraph(g);
        validateMergeGraph(g, declared);
        expect(declared.barriers).toEqual([]);
        expect(declared.heads.length).toBeGreaterThan(0);
        expect(declared.points.some((p) => p.stopPoint)).toBe(true);
        if (opts.derivable ?? true) expect(diffMergeGraphs(declared, deriveMergeGraph(g))).toEqual([]);
      }
    });

    it('is complete: a random permutation of every point (heads whole, ties kept) computes the same function', async () => {
      const limit = opts.permutationTolerance ?? 1e-3;
      for (const g of arch.prepare ? [raw, a] : [a]) {
        const m = arch.mergeGraph(g);
        const pa = permuteModel(g, m, randomPointPermutations(m, new SeededRandom(3)));
        const out = await run(pa);
        for (const o of outputs) expect(maxAbsDiff(out[o].data as Float32Array, ra[o].data as Float32Array), o).toBeLessThanOrEqual(limit);
      }
    });

    it.each(matchers.map((m) => [m.name, m] as const))('zip(A, A) with %s equals A', async (_name, matcher) => {
      const stats = await runtime.statistics([a, a], mg, x);
      const out = await zipRun([a, a], matchAll(matcher, [a, a], mg, stats), 'all');
      for (const k of [0, 1]) expectOutputs(out, k, 'zip(A, A)');
    });

    it.each(recovers.map((r) => [r.matcher.name, r] as const))('%s recovers a permuted copy exactly, and zip(A, P(A)) equals A', async (_name, r) => {
      const perms = randomPointPermutations(mg, new SeededRandom(99));
      const pa = permuteModel(a, mg, perms);
      const stats = await runtime.statistics([a, pa], mg, x);
      const ts = matchAll(r.matcher, [a, pa], mg, stats, r.params);
      mg.points.forEach((p, i) => {
        const mine = pairing(ts[i].unmerge, p.channels, 0);
        const theirs = pairing(ts[i].unmerge, p.channels, 1);
        expect(mine && theirs, `${p.name}: one-to-one`).toBeTruthy();
        for (let f = 0; f < p.channels; f++) expect(perms[i][theirs![f]], `${p.name} feature ${f}`).toBe(mine![f]);
      });
      const full = await zipRun([a, pa], ts, 'all');
      for (const k of [0, 1]) expectOutputs(full, k, 'zip(A, P(A))');
      // Up to the first stop point, the rest of model 1 is P(A)'s own layers reading the merged
      // features through the unmerge: sums in another order than A's, as for P(A) itself.
      const firstStop = mg.points.find((p) => p.stopPoint)!.index;
      const partial = await zipRun([a, pa], ts, firstStop);
      expectOutputs(partial, 0, `zip(A, P(A)) up to point ${firstStop}`);
      expectOutputs(partial, 1, `zip(A, P(A)) up to point ${firstStop}`, ra, opts.permutationTolerance ?? 1e-3);
    });

    it('stopping before the first point reproduces the ensemble exactly', async () => {
      const { graph: b, out: rb } = await modelB();
      const out = await zipRun([a, b], [], 'none');
      for (const o of outputs) {
        expect(out[`model0:${o}`].data, o).toEqual(ra[o].data);
        expect(out[`model1:${o}`].data, o).toEqual(rb[o].data);
      }
    });

    it('exports one ONNX file at every stop point that runs, with one output per model', async () => {
      const { graph: b, out: rb } = await modelB();
      const stats = await runtime.statistics([a, b], mg, x);
      const zipit = byName('zipit') ?? matchers[0];
      const ts = matchAll(zipit, [a, b], mg, stats);
      const stops: StopAt[] = [...mg.points.filter((p) => p.stopPoint).map((p) => p.index), 'all'];
      for (const stopAt of stops) {
        const { graph } = zipGraphs([a, b], { mergeGraph: mg, transforms: ts, stopAt });
        const exported = readOnnx(writeOnnx(graph));
        const out = await run(exported);
        const names = [0, 1].flatMap((k) => outputs.map((o) => `model${k}:${o}`)).sort();
        expect(Object.keys(out).sort(), String(stopAt)).toEqual(names);
        for (const o of outputs) {
          expect(out[`model0:${o}`].shape, `${stopAt} ${o}`).toEqual(ra[o].shape);
          expect(out[`model1:${o}`].shape, `${stopAt} ${o}`).toEqual(rb[o].shape);
          for (const k of [0, 1]) expect((out[`model${k}:${o}`].data as Float32Array).every(Number.isFinite), String(stopAt)).toBe(true);
        }
      }
    });

    // With α < 1, after two copies of a feature merge zipit scales the merged feature's
    // similarity by α, so the third copy may lose to a within-model pair whose correlation
    // exceeds α: a legitimate ZipIt! merge, not the identity. Hence α = 1 for three copies.
    it('merges three models: zip(A, A, A) equals A, and zip(A, B, C) runs', async () => {
      const stats = await runtime.statistics([a, a, a], mg, x);
      for (const m of threeMatchers) {
        const out = await zipRun([a, a, a], matchAll(m, [a, a, a], mg, stats, threeParams[m.name]), 'all');
        for (const k of [0, 1, 2]) expectOutputs(out, k, `zip(A, A, A) with ${m.name}`);
      }
      const [{ graph: b }, { graph: c }] = [await model(2), await model(3)];
      const s3 = await runtime.statistics([a, b, c], mg, x);
      const out = await zipRun([a, b, c], matchAll(byName('zipit') ?? matchers[0], [a, b, c], mg, s3), 'all');
      expect(Object.keys(out)).toHaveLength(3 * outputs.length);
    });
  });
}
