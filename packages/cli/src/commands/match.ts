import {
  decodeNpy,
  defaultMatcherRegistry,
  encodeNpy,
  getPointMatcher,
  NumericError,
  ShapeError,
  summarizeMatch,
  UnsupportedError,
  type MatcherParams,
} from '@zipit/core';
import { parseArgs, parseIntFlag, parseNumberFlag, RANGES, requireFlag, usageErrors, type Command } from '../command.js';
import { checkPaths, readInput, writeOutputs } from '../files.js';

const matchers = defaultMatcherRegistry();

export const matchCommand: Command = {
  name: 'match',
  summary: 'match features from a covariance matrix (.npy) and write merge/unmerge matrices',
  help: `usage: zipit match --cov COV.npy --models N --method ${matchers
    .list()
    .map((m) => m.name)
    .join('|')}
                   [--alpha A] [--beta B] --merge-out M.npy --unmerge-out U.npy

Reads the covariance [N·C, N·C] of the stacked features of N models (float32 or float64 .npy,
model-major: model 0's C channels first) and writes merge [C, N·C] and unmerge [N·C, C] as
float32 .npy files. Nothing is written unless both can be.

options:
  --cov FILE          covariance matrix (.npy, 2-D, square)
  --models N          number of models stacked in the matrix (≥ 1)
  --method NAME       ${matchers
    .list()
    .map((m) => `${m.name}: ${m.description}`)
    .join('\n                      ')}
  --alpha A           zipit: similarity decay of merged features; ≤ 0 forbids re-merging with their origin models (default 0.5)
  --beta B            zipit: fraction of merges each model may spend inside itself (default 1)
  --merge-out FILE    where to write merge [C, N·C]
  --unmerge-out FILE  where to write unmerge [N·C, C]
  --quiet             print nothing on success

example:
  zipit match --cov fixtures/examples/cov_resnet20_m2_c32.npy --models 2 --method zipit --alpha 0.5 --beta 1 \\
              --merge-out merge.npy --unmerge-out unmerge.npy`,

  async run(argv, io) {
    const { values } = usageErrors(() =>
      parseArgs({
        args: argv,
        allowPositionals: false,
        options: {
          cov: { type: 'string' },
          models: { type: 'string' },
          method: { type: 'string' },
          alpha: { type: 'string' },
          beta: { type: 'string' },
          'merge-out': { type: 'string' },
          'unmerge-out': { type: 'string' },
          quiet: { type: 'boolean' },
        },
      }),
    );
    const covPath = requireFlag(values.cov, '--cov');
    const numModels = parseIntFlag(requireFlag(values.models, '--models'), '--models', 0, RANGES.models);
    const mergeOut = requireFlag(values['merge-out'], '--merge-out');
    const unmergeOut = requireFlag(values['unmerge-out'], '--unmerge-out');
    const matcher = getPointMatcher(matchers, requireFlag(values.method, '--method'));
    const params: MatcherParams = {};
    if (values.alpha !== undefined) params.alpha = parseNumberFlag(values.alpha, '--alpha', 0, RANGES.alpha);
    if (values.beta !== undefined) params.beta = parseNumberFlag(values.beta, '--beta', 0, RANGES.beta);
    await checkPaths({
      inputs: [{ label: '--cov', path: covPath }],
      outputs: [
        { label: '--merge-out', path: mergeOut },
        { label: '--unmerge-out', path: unmergeOut },
      ],
    });

    const cov = decodeNpy(await readInput(covPath), covPath);
    if (cov.dtype !== 'float32' && cov.dtype !== 'float64') {
      throw new UnsupportedError(`covariance must be float32 or float64, got ${cov.dtype}`, { file: covPath });
    }
    if (cov.shape.length !== 2 || cov.shape[0] !== cov.shape[1]) {
      throw new ShapeError(`covariance must be a square 2-D matrix, got shape [${cov.shape.join(', ')}]`, { file: covPath });
    }
    const n = cov.shape[0];
    if (n % numModels !== 0) {
      throw new ShapeError(`covariance size ${n} is not divisible by --models ${numModels}`, { file: covPath });
    }
    const data = cov.data as Float32Array | Float64Array;
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new NumericError(`covariance has a non-finite value (${data[bad]}) at [${Math.floor(bad / n)}, ${bad % n}]`, { file: covPath });
    }
    checkCovarianceMatrix(data, n, covPath);
    const res = matcher.match(data, numModels, params);
    const c = res.channels;
    // The matcher runs synchronously: let a Ctrl-C pressed meanwhile arrive, and then write nothing.
    await new Promise((r) => setImmediate(r));
    io.signal.throwIfAborted();
    await writeOutputs(
      [
        { path: mergeOut, bytes: encodeNpy({ dtype: 'float32', shape: [c, n], data: res.merge }) },
        { path: unmergeOut, bytes: encodeNpy({ dtype: 'float32', shape: [n, c], data: res.unmerge }) },
      ],
      io.signal,
    );
    if (!values.quiet) {
      const s = summarizeMatch(res);
      const only = s.onlyFrom.map((k, i) => `${k} only from model ${i}`).join(', ');
      const within = s.withinModel.reduce((a, b) => a + b, 0);
      io.out(`${matcher.name}: ${numModels}×${c} → ${c} features (${s.acrossModels} across models, ${only}; ${within} within-model merges)`);
      io.out(`wrote ${mergeOut} [${c}, ${n}] and ${unmergeOut} [${n}, ${c}]`);
    }
    return 0;
  },
};

/**
 * A covariance matrix must be symmetric and have no negative variance (its diagonal); anything
 * else is not a covariance and would give meaningless correlations. Symmetry is checked up to
 * float rounding: |a_ij − a_ji| ≤ 1e-5 · max(|a_ij|, |a_ji|, √(a_ii·a_jj)) + 1e-30.
 */
export function checkCovarianceMatrix(a: Float32Array | Float64Array, n: number, file: string): void {
  for (let i = 0; i < n; i++) {
    const v = a[i * n + i];
    if (v < 0)
      throw new NumericError(`covariance has a negative variance ${v} at [${i}, ${i}]`, { file, hint: 'a covariance matrix has a non-negative diagonal' });
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const x = a[i * n + j];
      const y = a[j * n + i];
      const scale = Math.max(Math.abs(x), Math.abs(y), Math.sqrt(a[i * n + i] * a[j * n + j]));
      if (Math.abs(x - y) > 1e-5 * scale + 1e-30) {
        throw new NumericError(`covariance is not symmetric: [${i}, ${j}] = ${x} but [${j}, ${i}] = ${y}`, {
          file,
          hint: 'a covariance matrix equals its transpose',
        });
      }
    }
  }
}
