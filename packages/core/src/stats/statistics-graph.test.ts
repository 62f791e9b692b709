import { InvalidArgumentError, MismatchError, NotFoundError, UnsupportedError } from '../errors.js';
import { GraphBuilder } from '../graph/builder.js';
import { buildSmallCnn, buildTokenMlp, tokenMlpActivation } from '../testing/models.js';
import { describe, expect, it } from 'vitest';
import { buildStatisticsGraph } from './statistics-graph.js';

const STEM = '/relu/Relu_output_0';

describe('buildStatisticsGraph', () => {
  it('runs N prefixed models on one shared input and outputs Gram blocks, sums and shapes per space', () => {
    const models = [buildSmallCnn({ seed: 1 }), buildSmallCnn({ seed: 2 }), buildSmallCnn({ seed: 3 })];
    const plan = buildStatisticsGraph(models, [{ name: 'stem', values: [STEM, STEM, STEM], axis: 1 }]);
    expect(plan.input).toBe('input');
    expect(plan.graph.inputs.map((i) => i.name)).toEqual(['input']);
    const space = plan.spaces[0];
    expect(space.blocks.map((b) => [b.k, b.l])).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 1],
      [1, 2],
      [2, 2],
    ]);
    expect(plan.graph.outputs.map((o) => o.name)).toEqual([...space.blocks.map((b) => b.name), ...space.sums, ...space.shapes]);
    expect(space.shapes).toHaveLength(3);
    for (let k = 0; k < 3; k++) {
      expect(plan.graph.initializers.get(`model${k}/conv1.weight`)).toBe(models[k].initializers.get('conv1.weight'));
      const conv = plan.graph.nodes.find((n) => n.name === `model${k}//conv1/Conv`)!;
      expect(conv.inputs[0]).toBe('input');
    }
    const names = plan.graph.nodes.flatMap((n) => n.outputs);
    expect(new Set(names).size).toBe(names.length);
    const ops = plan.graph.nodes.filter((n) => n.name.startsWith('stats.0/')).map((n) => n.opType);
    expect(ops.filter((o) => o === 'MatMul')).toHaveLength(6);
    expect(ops).not.toContain('Concat');
  });

  it('picks the layout from the activation shape', () => {
    const m = buildSmallCnn();
    const layout = (shape: number[] | null, axis = 1) =>
      buildStatisticsGraph([m, m], [{ name: 's', values: [STEM, STEM], axis }], { shapes: [shape] }).spaces[0];
    expect(layout([4, 8, 16, 16]).layout).toBe('batched');
    expect(layout([4, 16, 4, 4]).layout).toBe('batched');
    expect(layout([4, 32, 2, 2]).layout).toBe('columns');
    expect(layout([4, 32, 1, 1]).layout).toBe('rows');
    expect(layout([4, 32]).layout).toBe('rows');
    expect(layout(null).layout).toBe('columns');
    expect(layout(null, -1).layout).toBe('rows');
    const batched = buildStatisticsGraph([m, m], [{ name: 's', values: [STEM, STEM], axis: 1 }], { shapes: [[4, 8, 16, 16]] });
    const ops = batched.graph.nodes.filter((n) => n.name.startsWith('stats.0/')).map((n) => n.opType);
    expect(ops).not.toContain('Flatten');
    expect(ops.filter((o) => o === 'Transpose')).toHaveLength(3);
  });

  it('brings token activations to [C, P] with Flatten for axis −1', () => {
    const m = buildTokenMlp();
    const plan = buildStatisticsGraph([m, m], [{ name: 't', values: [tokenMlpActivation(0), tokenMlpActivation(0)], axis: -1 }]);
    const ops = plan.graph.nodes.filter((n) => n.name.startsWith('stats.0/model0/')).map((n) => n.opType);
    // Sums of the raw rows, Gram blocks of the rows centred on the batch mean (see GramBlock).
    expect(ops).toEqual(['Flatten', 'Shape', 'ReduceSum', 'ReduceMean', 'Sub']);
    expect(plan.spaces[0].layout).toBe('rows');
  });

  it('uses the ReduceSum form of the models’ opset', () => {
    const reduce = (opset: number) => {
      const plan = buildStatisticsGraph([buildSmallCnn({ opset })], [{ name: 's', values: [STEM], axis: 1 }]);
      return plan.graph.nodes.find((n) => n.opType === 'ReduceSum')!;
    };
    expect(reduce(11).inputs).toHaveLength(1);
    expect(reduce(13).inputs).toHaveLength(2);
    const mean = (opset: number) =>
      buildStatisticsGraph([buildSmallCnn({ opset })], [{ name: 's', values: [STEM], axis: 1 }]).graph.nodes.find((n) => n.opType === 'ReduceMean')!;
    expect(mean(17).inputs).toHaveLength(1);
    expect(mean(18).inputs).toHaveLength(2);
  });

  it('rejects bad requests with typed errors naming the space', () => {
    const a = buildSmallCnn({ seed: 1 });
    const b = buildSmallCnn({ seed: 2 });
    expect(() => buildStatisticsGraph([a, b], [{ name: 's', values: [STEM, '/relu/Relu_output_9'], axis: 1 }])).toThrow(NotFoundError);
    expect(() => buildStatisticsGraph([a, b], [{ name: 's', values: [STEM, '/relu/Relu_output_9'], axis: 1 }])).toThrow(
      /space s.*model 1.*did you mean "\/relu\/Relu_output_0"/,
    );
    expect(() => buildStatisticsGraph([a, b], [{ name: 's', values: [STEM], axis: 1 }])).toThrow(InvalidArgumentError);
    expect(() => buildStatisticsGraph([a, b], [{ name: 's', values: [STEM, STEM], axis: -2 }])).toThrow(InvalidArgumentError);
    expect(() => buildStatisticsGraph([a, b], [])).toThrow(InvalidArgumentError);
    expect(() => buildStatisticsGraph([a, buildSmallCnn({ opset: 17 })], [{ name: 's', values: [STEM, STEM], axis: 1 }])).toThrow(MismatchError);
    const two = new GraphBuilder();
    two.output(two.add(two.input('p', [1, 2]), two.input('q', [1, 2])));
    expect(() => buildStatisticsGraph([two.build()], [{ name: 's', values: ['p'], axis: 1 }])).toThrow(UnsupportedError);
  });
});
