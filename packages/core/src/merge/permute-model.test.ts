import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../graph/builder.js';
import type { Graph } from '../graph/graph.js';
import { tensor } from '../tensor/tensor.js';
import type { MergeGraph, MergePoint } from './merge-graph.js';
import { permuteModel, randomPointPermutations } from './permute-model.js';

const point = (index: number, channels: number, extra: Partial<MergePoint> = {}): MergePoint => ({
  index,
  name: `p${index}`,
  channels,
  observe: { value: 'x', axis: 1 },
  values: [],
  producers: [],
  consumers: [],
  ties: [],
  stopPoint: false,
  producerNodes: [],
  consumerNodes: [],
  ...extra,
});

describe('randomPointPermutations', () => {
  it('keeps blocks whole and shares the block order within a group', () => {
    const blocks = { count: 4, size: 3, group: 'attn' };
    const mg: MergeGraph = { points: [point(0, 12, { blocks }), point(1, 12, { blocks }), point(2, 5)], heads: [], barriers: [] };
    const [qk, v, plain] = randomPointPermutations(mg, new SeededRandom(4));
    const headOrder = (p: Int32Array) => Array.from({ length: 4 }, (_, j) => Math.floor(p[j * 3] / 3));
    for (const p of [qk, v]) {
      for (let j = 0; j < 4; j++) for (let i = 0; i < 3; i++) expect(Math.floor(p[j * 3 + i] / 3)).toBe(headOrder(p)[j]);
      expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    }
    expect(headOrder(v)).toEqual(headOrder(qk));
    expect([...plain].sort()).toEqual([0, 1, 2, 3, 4]);
    const tied: MergeGraph = { points: [point(0, 6, { shareTransform: 's' }), point(1, 6, { shareTransform: 's' })], heads: [], barriers: [] };
    const [s0, s1] = randomPointPermutations(tied, new SeededRandom(2));
    expect(s1).toBe(s0);
  });
});

describe('permuteModel', () => {
  it('permutes each producer/consumer axis from its offset and leaves the rest of the axis alone', () => {
    const w = tensor(
      'float32',
      [2, 6],
      Float32Array.from({ length: 12 }, (_, i) => i),
    );
    const graph = { initializers: new Map([['w', w]]) } as unknown as Graph;
    const mg: MergeGraph = {
      points: [point(0, 3, { producers: [{ param: 'w', axis: 1, node: 'n', offset: 2 }] })],
      heads: [],
      barriers: [],
    };
    const out = permuteModel(graph, mg, [Int32Array.of(2, 0, 1)]);
    expect(Array.from(out.initializers.get('w')!.data as Float32Array)).toEqual([0, 1, 4, 2, 3, 5, 6, 7, 10, 8, 9, 11]);
    expect(Array.from(w.data as Float32Array)).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });
});
