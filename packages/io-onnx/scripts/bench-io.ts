/**
 * Read/write throughput of the ONNX codec on a synthetic model, against a plain memcpy of the
 * same bytes measured in the same run (machines here are noisy: the ratios are the figures).
 *
 *   node --conditions=@zipit/source --import tsx packages/io-onnx/scripts/bench-io.ts [--mib 256] [--reps 5]
 */
import { parseArgs } from 'node:util';
import type { Graph, Tensor } from '@zipit/core';
import { readOnnx } from '../src/read.js';
import { writeOnnx } from '../src/write.js';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '256' }, reps: { type: 'string', default: '5' } } });
const tensors = Math.max(1, Math.round(Number(values.mib) / 4));
const reps = Number(values.reps);

const initializers = new Map<string, Tensor>();
for (let i = 0; i < tensors; i++)
  initializers.set(`layer${i}.weight`, { dtype: 'float32', shape: [1024, 1024], data: new Float32Array(1 << 20).fill(i + 0.5) });
const graph: Graph = {
  name: 'bench',
  irVersion: 8,
  opsetImports: [{ domain: '', version: 17 }],
  metadata: [],
  nodes: [],
  inputs: [],
  outputs: [],
  valueInfo: [],
  initializers,
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (f: () => unknown) => {
  const t = performance.now();
  f();
  return performance.now() - t;
};
const w: number[] = [],
  r: number[] = [],
  c: number[] = [];
let bytes = writeOnnx(graph);
for (let i = 0; i < reps; i++) {
  w.push(
    time(() => {
      bytes = writeOnnx(graph);
    }),
  );
  c.push(time(() => new Uint8Array(bytes.length).set(bytes)));
  r.push(time(() => readOnnx(bytes)));
}
const mib = bytes.length / 2 ** 20;
const [tw, tr, tc] = [median(w), median(r), median(c)];
console.log(`model: ${tensors} float32 tensors, ${mib.toFixed(0)} MiB; medians of ${reps} runs`);
console.log(`memcpy of the file: ${tc.toFixed(0)} ms (${((mib / tc) * 1000).toFixed(0)} MiB/s)`);
console.log(`writeOnnx: ${tw.toFixed(0)} ms (${((mib / tw) * 1000).toFixed(0)} MiB/s) = ${(tw / tc).toFixed(2)}× memcpy`);
console.log(`readOnnx:  ${tr.toFixed(0)} ms (${((mib / tr) * 1000).toFixed(0)} MiB/s) = ${(tr / tc).toFixed(2)}× memcpy`);
