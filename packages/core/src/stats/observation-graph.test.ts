import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../graph/builder.js';
import type { MergeGraph, MergePoint } from '../merge/merge-graph.js';
import { observationGraph } from './observation-graph.js';

describe('observationGraph', () => {
  const b = new GraphBuilder({ seed: 1 });
  const y = b.linear(b.input('tokens', ['batch', 3, 4]), 12, { name: 'qkv' });
  b.output(y, 'y');
  const graph = b.build();
  const point = (index: number, observe: MergePoint['observe']): MergePoint => ({
    index,
    name: `p${index}`,
    channels: 4,
    observe,
    values: [],
    producers: [],
    consumers: [],
    ties: [],
    stopPoint: false,
    producerNodes: [],
    consumerNodes: [],
  });

  it('slices a point observed inside a fused output and leaves the others alone', () => {
    const mg: MergeGraph = { points: [point(0, { value: y, axis: 2, offset: 4 }), point(1, { value: y, axis: 2 })], heads: [], barriers: [] };
    const { graph: g, values } = observationGraph(graph, mg);
    expect(values).toEqual(['zipit.observe.0', y]);
    const slice = g.nodes[g.nodes.length - 1];
    expect(slice).toMatchObject({
      opType: 'Slice',
      inputs: [y, 'zipit.observe.0.starts', 'zipit.observe.0.ends', 'zipit.observe.0.axes'],
      outputs: ['zipit.observe.0'],
    });
    expect([4, 8, 2].map((v, i) => BigInt(v) === (g.initializers.get(slice.inputs[i + 1])!.data as BigInt64Array)[0])).toEqual([true, true, true]);
    expect(g.nodes.length).toBe(graph.nodes.length + 1);
  });

  it('returns the graph itself when nothing needs slicing', () => {
    const mg: MergeGraph = { points: [point(0, { value: y, axis: 2 })], heads: [], barriers: [] };
    expect(observationGraph(graph, mg).graph).toBe(graph);
  });
});
