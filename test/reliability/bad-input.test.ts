import { linkSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy } from '@zipit/core';
import { readOnnx, writeOnnx } from '@zipit/io-onnx';
import { dotSlash, expectContract, makeWork, snapshot, zipit, type Work } from './harness.js';

/**
 * The generated bad-input suite (README "Reliability"): random option values, random file
 * mutations and outputs aliased onto inputs across every command, each case checked against
 * the README's promises (`expectContract`: exit code contract, one stderr line, no stack
 * trace, inputs byte-identical, no partial outputs). Runs in-process on tiny inputs; seeded, so
 * a failure reproduces. CASES counts the cases actually run (reported in the README).
 */

const SEED = 20241128;
let cases = 0;
const dirs: string[] = [];
let statsBytes: Uint8Array;

function work(): Work {
  const w = makeWork(statsBytes);
  dirs.push(w.dir);
  return w;
}

beforeAll(async () => {
  const w = makeWork();
  dirs.push(w.dir);
  const r = await zipit(['stats', w.a, w.b, '--data', w.x, '--samples', '16', '--out', w.stats, '--quiet']);
  expect(r.code, r.stderr).toBe(0);
  statsBytes = readFileSync(w.stats);
});

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  // Printed so the figure in the README can be checked: `pnpm vitest run test/reliability`.
  console.log(`reliability suite: ${cases} generated cases`);
});

/** Runs one case and checks the contract. */
async function check(w: Work, args: string[], opts: { outputs?: string[]; codes?: number[]; label?: string; signal?: AbortSignal } = {}) {
  const before = snapshot(w.dir);
  const r = await zipit(args, { signal: opts.signal });
  cases++;
  expectContract(r, before, w.dir, { outputs: opts.outputs, codes: opts.codes, label: opts.label ?? args.join(' ') });
  return r;
}

// ---------------------------------------------------------------------------------------------
// Random option values: an independent oracle says which values are valid.

interface Range {
  integer?: boolean;
  min?: number;
  max?: number;
}

const MAX_THREADS = Math.max(1, Math.min(256, 4 * availableParallelism()));

/** Plain decimal notation, range-checked: what every number option accepts. */
function validNumber(text: string, r: Range): boolean {
  const t = text.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return false;
  const n = Number(t);
  if (!Number.isFinite(n)) return false;
  if (r.integer && !Number.isSafeInteger(n)) return false;
  return (r.min === undefined || n >= r.min) && (r.max === undefined || n <= r.max);
}

const numberText = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '-1',
    '-0',
    '0',
    '1',
    '2',
    '1e9',
    '1e999',
    '-1e9',
    'NaN',
    'Infinity',
    '-Infinity',
    '0x10',
    '1,5',
    '2.5',
    '-.5',
    '.5',
    '+3',
    '1e-9',
    '4294967296',
    '9007199254740993',
    '100000',
    '--quiet',
    '-x',
    'abc',
    '٣',
    '1_000',
    ' 7 ',
    '0b1',
    '1e',
    'e1',
    '--',
    '-',
  ),
  fc.integer({ min: -(2 ** 40), max: 2 ** 40 }).map(String),
  fc.double().map(String),
  fc.string({ maxLength: 6 }),
);

/** Each command with a late, certain failure planted after option parsing, and its number flags. */
function optionTargets(w: Work): { name: string; args: (flag: string, value: string) => string[]; flags: [string, Range][]; late: RegExp }[] {
  const missing = join(w.dir, 'missing.onnx');
  return [
    {
      name: 'merge',
      args: (f, v) => ['merge', missing, w.b, '--data', w.x, '--out', join(w.dir, 'm.onnx'), f, v],
      flags: [
        ['--alpha', {}],
        ['--beta', { min: 0 }],
        ['--samples', { integer: true, min: 1, max: 1e9 }],
        ['--threads', { integer: true, min: 1, max: MAX_THREADS }],
      ],
      late: /missing\.onnx: file not found/,
    },
    {
      name: 'stats',
      args: (f, v) => ['stats', missing, w.b, '--data', w.x, '--out', join(w.dir, 's2.zstats'), f, v],
      flags: [
        ['--samples', { integer: true, min: 1, max: 1e9 }],
        ['--threads', { integer: true, min: 1, max: MAX_THREADS }],
      ],
      late: /missing\.onnx: file not found/,
    },
    {
      name: 'sweep',
      args: (f, v) => ['sweep', missing, w.b, '--stats-in', w.stats, '--data', w.x, '--data', w.x, f, v],
      flags: [
        ['--samples', { integer: true, min: 1, max: 1e9 }],
        ['--threads', { integer: true, min: 1, max: MAX_THREADS }],
      ],
      late: /missing\.onnx: file not found/,
    },
    {
      name: 'match',
      args: (f, v) => [
        'match',
        '--cov',
        join(w.dir, 'missing.npy'),
        '--method',
        'zipit',
        '--merge-out',
        join(w.dir, 'm.npy'),
        '--unmerge-out',
        join(w.dir, 'u.npy'),
        ...(f === '--models' ? [] : ['--models', '2']),
        f,
        v,
      ],
      flags: [
        ['--models', { integer: true, min: 1, max: 1024 }],
        ['--alpha', {}],
        ['--beta', { min: 0 }],
      ],
      late: /missing\.npy: file not found/,
    },
    {
      name: 'eval',
      args: (f, v) => ['eval', w.a, '--task', `t=${join(w.dir, 'missing.npy')}:${w.y}`, f, v],
      flags: [
        ['--batch-size', { integer: true, min: 1, max: 65536 }],
        ['--threads', { integer: true, min: 1, max: MAX_THREADS }],
      ],
      late: /missing\.npy: cannot open/,
    },
    {
      name: 'export-images',
      args: (f, v) => ['export-images', 'mnist:test', '--out', w.a, f, v],
      flags: [
        ['--quality', { integer: true, min: 1, max: 100 }],
        ['--per-class', { integer: true, min: 1, max: 1_000_000 }],
      ],
      late: /a\.onnx: exists and is not a folder/,
    },
  ];
}

describe('random option values', () => {
  it('a valid value is taken (negatives too), an invalid one is refused naming the flag and its range; never a crash', async () => {
    const w = work();
    const targets = optionTargets(w);
    const pick = fc.integer({ min: 0, max: 1000 });
    await fc.assert(
      fc.asyncProperty(pick, pick, numberText, fc.boolean(), async (t, f, value, withEquals) => {
        const target = targets[t % targets.length];
        const [flag, range] = target.flags[f % target.flags.length];
        let args = target.args(flag, value);
        if (withEquals) args = [...args.slice(0, -2), `${flag}=${value}`];
        const r = await check(w, args, { codes: [1, 2] });
        const valid = validNumber(value, range);
        const dashy = value.startsWith('-') && !/^-(\d|\.\d)/.test(value) && !withEquals;
        if (valid) {
          expect(r.stderr, `${flag} ${JSON.stringify(value)} is valid`).toMatch(target.late);
          expect(r.code).toBe(1);
        } else if (dashy) {
          expect([1, 2]).toContain(r.code);
        } else {
          expect(r.code, `${flag} ${JSON.stringify(value)}: ${r.stderr}`).toBe(1);
          expect(r.stderr).toContain(flag);
          expect(r.stderr).toMatch(/a number|an integer/);
          if (range.min !== undefined || range.max !== undefined) expect(r.stderr).toMatch(/between|at least|at most|needs a value|expects/);
        }
      }),
      { numRuns: 150, seed: SEED },
    );
  });

  it('sweep lists: every item checked, negatives are values', async () => {
    const w = work();
    const missing = join(w.dir, 'missing.onnx');
    const item = fc.oneof(fc.constantFrom('-1', '0.5', '', 'x', '1e9', '-0.25', 'NaN'), fc.double({ min: -5, max: 5, noNaN: true }).map(String));
    await fc.assert(
      fc.asyncProperty(fc.array(item, { minLength: 1, maxLength: 3 }), fc.constantFrom('--alpha', '--beta'), async (items, flag) => {
        const value = items.join(',');
        const r = await check(w, ['sweep', missing, w.b, '--stats-in', w.stats, '--data', w.x, '--data', w.x, flag, value], { codes: [1, 2] });
        const ok = value.trim() !== '' && items.every((s) => validNumber(s, flag === '--beta' ? { min: 0 } : {}));
        if (ok) expect(r.stderr).toMatch(/missing\.onnx: file not found/);
        else if (!(value.startsWith('-') && !/^-(\d|\.\d)/.test(value))) expect(r.stderr).toContain(flag);
      }),
      { numRuns: 40, seed: SEED },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Random file mutations: typed error or a valid run, never a crash, inputs untouched.

const mutation = fc.record({
  kind: fc.constantFrom('flip', 'truncate', 'zero', 'insert', 'byte'),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  len: fc.integer({ min: 1, max: 64 }),
  byte: fc.integer({ min: 1, max: 255 }),
});

function mutate(bytes: Buffer, m: { kind: string; at: number; len: number; byte: number }): Buffer {
  const at = Math.min(bytes.length - 1, Math.floor(m.at * bytes.length));
  const out = Buffer.from(bytes);
  switch (m.kind) {
    case 'flip':
      for (let i = at; i < Math.min(out.length, at + m.len); i++) out[i] ^= m.byte;
      return out;
    case 'truncate':
      return out.subarray(0, at);
    case 'zero':
      out.fill(0, at, Math.min(out.length, at + m.len));
      return out;
    case 'insert':
      return Buffer.concat([out.subarray(0, at), Buffer.alloc(m.len, m.byte), out.subarray(at)]);
    default:
      out[at] = (out[at] + m.byte) & 255;
      return out;
  }
}

describe('random file mutations', () => {
  const targets: { file: keyof Work; cmd: string; run: (w: Work) => { args: string[]; outputs?: string[] }; mustFail?: boolean }[] = [
    { file: 'a', cmd: 'inspect', run: (w) => ({ args: ['inspect', w.a] }) },
    { file: 'a', cmd: 'convert', run: (w) => ({ args: ['convert', w.a, join(w.dir, 'c.onnx'), '--quiet'], outputs: [join(w.dir, 'c.onnx')] }) },
    { file: 'x', cmd: 'eval', run: (w) => ({ args: ['eval', w.b, '--task', `t=${w.x}:${w.y}`, '--json'] }) },
    { file: 'y', cmd: 'eval', run: (w) => ({ args: ['eval', w.b, '--task', `t=${w.x}:${w.y}`, '--json'] }) },
    {
      file: 'cov',
      cmd: 'match',
      run: (w) => ({
        args: [
          'match',
          '--cov',
          w.cov,
          '--models',
          '2',
          '--method',
          'zipit',
          '--merge-out',
          join(w.dir, 'm.npy'),
          '--unmerge-out',
          join(w.dir, 'u.npy'),
          '--quiet',
        ],
        outputs: [join(w.dir, 'm.npy'), join(w.dir, 'u.npy')],
      }),
    },
    // Saved statistics carry a checksum: any changed byte is refused (before any merge work).
    {
      file: 'stats',
      cmd: 'merge',
      run: (w) => ({
        args: ['merge', w.a, w.b, '--stats-in', w.stats, '--data', w.x, '--samples', '16', '--out', join(w.dir, 'm.onnx'), '--quiet'],
        outputs: [join(w.dir, 'm.onnx')],
      }),
      mustFail: true,
    },
  ];
  for (const t of targets) {
    it(`${String(t.file)} mutated → zipit ${t.cmd}: typed error (exit 1) or success, inputs untouched`, async () => {
      await fc.assert(
        fc.asyncProperty(mutation, async (m) => {
          const w = work();
          const path = w[t.file];
          const original = readFileSync(path);
          const bad = mutate(original, m);
          writeFileSync(path, bad);
          const { args, outputs } = t.run(w);
          const r = await check(w, args, { outputs, codes: [0, 1], label: `${String(t.file)} ${JSON.stringify(m)}: ${args.join(' ')}` });
          if (t.mustFail && !bad.equals(original)) {
            expect(r.code, `a changed statistics file was accepted (${JSON.stringify(m)})`).toBe(1);
            expect(r.stderr).toMatch(/s\.zstats: .*(checksum|truncated|corrupt|magic|version|bytes)/);
          }
        }),
        { numRuns: t.file === 'x' || t.file === 'y' ? 15 : 20, seed: SEED },
      );
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Outputs aliased onto inputs (and onto each other) under every spelling.

type Spelling = (w: Work, p: string) => string;
const SPELLINGS: Record<string, Spelling> = {
  absolute: (_w, p) => p,
  './relative': (_w, p) => dotSlash(p),
  'sub/..': (w, p) => `${w.dir}/sub/../${basename(p)}`,
  'double slash': (w, p) => `${w.dir}//${basename(p)}`,
  symlink: (w, p) => {
    const l = join(w.dir, 'sub', `link-${basename(p)}`);
    symlinkSync(p, l);
    return l;
  },
  'hard link': (w, p) => {
    const l = join(w.dir, 'sub', `hard-${basename(p)}`);
    linkSync(p, l);
    return l;
  },
};

/** Each command: its inputs (by Work key) and output flags with a fresh default path. */
function aliasTargets(w: Work) {
  const o = (n: string) => join(w.dir, n);
  return [
    {
      name: 'merge',
      inputs: ['a', 'b', 'x', 'stats'] as (keyof Work)[],
      outputs: { '--out': o('m.onnx'), '--report': o('r.md'), '--stats-out': o('s2.zstats') } as Record<string, string>,
      args: (outs: Record<string, string>) => [
        'merge',
        w.a,
        w.b,
        '--data',
        w.x,
        '--stats-in',
        w.stats,
        '--samples',
        '16',
        '--quiet',
        ...Object.entries(outs).flat(),
      ],
    },
    {
      name: 'stats',
      inputs: ['a', 'b', 'x'] as (keyof Work)[],
      outputs: { '--out': o('s2.zstats') } as Record<string, string>,
      args: (outs: Record<string, string>) => ['stats', w.a, w.b, '--data', `${w.x}`, '--samples', '16', '--quiet', ...Object.entries(outs).flat()],
    },
    {
      name: 'match',
      inputs: ['cov'] as (keyof Work)[],
      outputs: { '--merge-out': o('m.npy'), '--unmerge-out': o('u.npy') } as Record<string, string>,
      args: (outs: Record<string, string>) => ['match', '--cov', w.cov, '--models', '2', '--method', 'zipit', '--quiet', ...Object.entries(outs).flat()],
    },
    {
      name: 'convert',
      inputs: ['a'] as (keyof Work)[],
      outputs: { OUT: o('c.onnx') } as Record<string, string>,
      args: (outs: Record<string, string>) => ['convert', w.a, outs.OUT, '--quiet'],
    },
  ];
}

describe('outputs aliased onto inputs', () => {
  it('every output onto every input, under every spelling: exit 1 before any work, inputs intact', async () => {
    const template = aliasTargets(makeWork());
    for (const [k, t] of template.entries()) {
      for (const flag of Object.keys(t.outputs)) {
        for (const input of t.inputs) {
          for (const [spelling, spell] of Object.entries(SPELLINGS)) {
            const w = work();
            const target = aliasTargets(w)[k];
            const outs = { ...target.outputs, [flag]: spell(w, w[input]) };
            const r = await check(w, target.args(outs), { codes: [1], label: `${t.name} ${flag} onto ${String(input)} (${spelling})` });
            // --report onto a model is already refused for its extension (also before any work).
            expect(r.stderr).toMatch(flag === '--report' ? /is the same file as|--report must end in/ : /is the same file as/);
          }
        }
      }
    }
  });

  it('two outputs of one command on one file (any spelling, or differing only in case): exit 1, nothing written', async () => {
    const template = aliasTargets(makeWork());
    const spellings: Record<string, (p: string) => string> = {
      same: (p) => p,
      './relative': dotSlash,
      'double slash': (p) => p.replace(/\/([^/]+)$/, '//$1'),
      'upper case': (p) => p.replace(/([^/]+)$/, (n) => n.toUpperCase()),
    };
    for (const [k, t] of template.entries()) {
      const flags = Object.keys(t.outputs);
      for (let i = 0; i < flags.length; i++) {
        for (let j = i + 1; j < flags.length; j++) {
          for (const [spelling, spell] of Object.entries(spellings)) {
            const w = work();
            const target = aliasTargets(w)[k];
            const outs = { ...target.outputs, [flags[j]]: spell(target.outputs[flags[i]]) };
            const r = await check(w, target.args(outs), { codes: [1], label: `${t.name} ${flags[j]} onto ${flags[i]} (${spelling})` });
            expect(r.stderr).toMatch(
              flags[j] === '--report' ? /same file as|differs only in letter case|--report must end in/ : /same file as|differs only in letter case/,
            );
          }
        }
      }
    }
  });

  it('an output folder that is missing or a file, or an output that is a folder: exit 1 up front', async () => {
    for (const make of [(w: Work) => join(w.dir, 'nope', 'm.onnx'), (w: Work) => join(w.a, 'm.onnx'), (w: Work) => join(w.dir, 'sub')]) {
      const w = work();
      const r = await check(w, ['merge', w.a, w.b, '--data', w.x, '--samples', '16', '--out', make(w), '--quiet'], { codes: [1] });
      expect(r.stderr).toMatch(/cannot write output/);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Enumerated promises: exit codes, stdout failures, Ctrl-C, crashes fixed, determinism.

describe('exit code contract and the one write path', () => {
  it('usage errors exit 2 with one line', async () => {
    const w = work();
    const folderOut = await check(w, ['export-images', 'mnist:test', '--out', w.a, '--per-class', '1'], { codes: [1] });
    expect(folderOut.stderr).toMatch(/exists and is not a folder/);
    for (const args of [
      ['frobnicate'],
      ['merge', w.a, w.b, '--bogus'],
      ['merge', w.a],
      ['match', '--cov'],
      ['eval'],
      ['convert', w.a],
      ['stats', w.a, w.b, '--data', w.x],
      ['inspect', w.a, '--alpha', '1'],
    ]) {
      await check(w, args, { codes: [2] });
    }
  });

  it('stdout failures: EPIPE is no error; ENOSPC is exit 1 with one line, or exit 0 once the files are written', async () => {
    const w = work();
    const epipe = await zipit(['inspect', w.a], { stdoutFails: 'EPIPE' });
    expect([epipe.code, epipe.stderr]).toEqual([0, '']);
    const full = await zipit(['inspect', w.a], { stdoutFails: 'ENOSPC' });
    expect(full.code).toBe(1);
    expect(full.stderr).toMatch(/^zipit inspect: cannot write to standard output \(ENOSPC\)\n$/);
    const out = join(w.dir, 'c.onnx');
    const conv = await zipit(['convert', w.a, out], { stdoutFails: 'ENOSPC' });
    expect(conv.code).toBe(0);
    expect(conv.stderr).toMatch(/^zipit convert: the outputs were written, but the summary could not be printed.*\n$/);
    expect(readFileSync(out).length).toBeGreaterThan(0);
    cases += 3;
  });

  it('Ctrl-C: exit 130, nothing written, existing outputs kept (match, merge, stats)', async () => {
    const w = work();
    writeFileSync(join(w.dir, 'm.npy'), 'old merge');
    const aborted = () => {
      const c = new AbortController();
      c.abort(new Error('interrupted'));
      return c.signal;
    };
    for (const args of [
      ['match', '--cov', w.cov, '--models', '2', '--method', 'zipit', '--merge-out', join(w.dir, 'm.npy'), '--unmerge-out', join(w.dir, 'u.npy')],
      ['merge', w.a, w.b, '--data', w.x, '--samples', '16', '--out', join(w.dir, 'm.npy')],
      ['stats', w.a, w.b, '--data', w.x, '--samples', '16', '--out', join(w.dir, 'm.npy')],
    ]) {
      const r = await check(w, args, { codes: [130], signal: aborted() });
      expect(r.stderr).toMatch(/interrupted; nothing was written/);
    }
    expect(readFileSync(join(w.dir, 'm.npy'), 'utf8')).toBe('old merge');
  });

  it('bad inputs that used to crash: a folder named x.npy, labels far beyond any class, NaN weights, an unallocatable input', async () => {
    const w = work();
    mkdirSync(join(w.dir, 'dir.npy'));
    const r1 = await check(w, ['eval', w.a, '--task', `t=${join(w.dir, 'dir.npy')}:${w.y}`], { codes: [1] });
    expect(r1.stderr).toMatch(/dir\.npy: is a folder/);
    const yBig = join(w.dir, 'ybig.npy');
    writeFileSync(yBig, encodeNpy({ dtype: 'int64', shape: [16], data: BigInt64Array.from({ length: 16 }, (_, i) => (i === 3 ? 10n ** 15n : 0n)) }));
    expect((await check(w, ['eval', w.a, '--task', `t=${w.x}:${yBig}`], { codes: [1] })).stderr).toMatch(/ybig\.npy: label 3/);
    const g = readOnnx(readFileSync(w.a));
    const weight = [...g.initializers.values()].find((t) => t.dtype === 'float32' && t.data.length > 10)!;
    (weight.data as Float32Array).fill(NaN);
    const nanModel = join(w.dir, 'nan.onnx');
    writeFileSync(nanModel, writeOnnx(g));
    expect((await check(w, ['eval', nanModel, '--task', `t=${w.x}:${w.y}`], { codes: [1] })).stderr).toMatch(/nan\.onnx: .*non-finite/);
    const big = readOnnx(readFileSync(w.a));
    big.inputs[0] = { ...big.inputs[0], shape: [1, 3, 100000, 100000] };
    const bigModel = join(w.dir, 'big.onnx');
    writeFileSync(bigModel, writeOnnx(big));
    expect((await check(w, ['eval', bigModel, '--task', 't=mnist:0-4'], { codes: [1] })).stderr).toMatch(/100000/);
  });

  it('match refuses covariances that are not: asymmetric, negative variance', async () => {
    const w = work();
    const cov = decodeNpy(readFileSync(w.cov));
    const n = cov.shape[0];
    const asym = Float64Array.from(cov.data as Float32Array);
    asym[1] += 1;
    const neg = Float64Array.from(cov.data as Float32Array);
    neg[5 * n + 5] = -1;
    for (const [name, data, message] of [
      ['asym.npy', asym, /not symmetric: \[0, 1\]/],
      ['neg.npy', neg, /negative variance -1 at \[5, 5\]/],
    ] as const) {
      writeFileSync(join(w.dir, name), encodeNpy({ dtype: 'float64', shape: [n, n], data }));
      const r = await check(
        w,
        ['match', '--cov', join(w.dir, name), '--models', '2', '--method', 'zipit', '--merge-out', join(w.dir, 'm.npy'), '--unmerge-out', join(w.dir, 'u.npy')],
        { codes: [1] },
      );
      expect(r.stderr).toMatch(message);
    }
  });

  it('convert refuses cyclic, dangling and output-less graphs, naming the node and the file', async () => {
    const w = work();
    const g = () => readOnnx(readFileSync(w.a));
    const cyclic = g();
    cyclic.nodes[1] = { ...cyclic.nodes[1], inputs: [cyclic.nodes[cyclic.nodes.length - 2].outputs[0], ...cyclic.nodes[1].inputs.slice(1)] };
    const dangling = g();
    dangling.nodes[2] = { ...dangling.nodes[2], inputs: ['nowhere', ...dangling.nodes[2].inputs.slice(1)] };
    const none = { ...g(), outputs: [] };
    for (const [name, graph, message] of [
      ['cyclic.onnx', cyclic, /cyclic\.onnx.*cycle through node "/],
      ['dangling.onnx', dangling, /dangling\.onnx, node .*reads "nowhere"/],
      ['none.onnx', none, /none\.onnx: the graph has no outputs/],
    ] as const) {
      writeFileSync(join(w.dir, name), writeOnnx(graph));
      const r = await check(w, ['convert', join(w.dir, name), join(w.dir, 'out.onnx')], { codes: [1] });
      expect(r.stderr).toMatch(message);
    }
  });

  it('--beta 1e9 acts like a large budget, not like 0 (no 32-bit overflow)', async () => {
    const w = work();
    const run = async (beta: string) => {
      const m = join(w.dir, `m${beta}.npy`);
      const r = await check(
        w,
        [
          'match',
          '--cov',
          w.cov,
          '--models',
          '2',
          '--method',
          'zipit',
          '--beta',
          beta,
          '--merge-out',
          m,
          '--unmerge-out',
          join(w.dir, `u${beta}.npy`),
          '--quiet',
        ],
        { codes: [0], outputs: [m, join(w.dir, `u${beta}.npy`)] },
      );
      expect(r.code).toBe(0);
      return readFileSync(m);
    };
    const huge = await run('1e9');
    expect(huge.equals(await run('1000'))).toBe(true);
    expect(huge.equals(await run('0'))).toBe(false);
  });

  it('identical inputs give byte-identical outputs (merge with report and statistics, match, convert)', async () => {
    const w = work();
    const outputs = (tag: string) => [join(w.dir, `m${tag}.onnx`), join(w.dir, `r${tag}.json`), join(w.dir, `s${tag}.zstats`)];
    const runs: Buffer[][] = [];
    for (const tag of ['1', '2']) {
      const [m, r, s] = outputs(tag);
      const res = await check(w, ['merge', w.a, w.b, '--data', w.x, '--samples', '16', '--out', m, '--stats-out', s, '--quiet'], {
        codes: [0],
        outputs: [m, r, s],
      });
      expect(res.code, res.stderr).toBe(0);
      const c = join(w.dir, `c${tag}.onnx`);
      await check(w, ['convert', m, c, '--quiet'], { codes: [0], outputs: [c] });
      runs.push([readFileSync(m), readFileSync(s), readFileSync(c)]);
    }
    runs[0].forEach((bytes, k) => expect(bytes.equals(runs[1][k]), `output ${k}`).toBe(true));
  });
});
