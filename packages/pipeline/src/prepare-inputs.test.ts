import { createArchitectureRegistry, deriveMergeGraph, MismatchError, type Architecture, type Graph } from '@zipit/core';
import { buildSmallCnn } from '@zipit/core/testing';
import { describe, expect, it } from 'vitest';
import { inspectGraph } from './inspect-model.js';
import { modelNameOf, namedModels, prepareForMerge } from './prepare-inputs.js';

const a = buildSmallCnn({ seed: 1, imageSize: 16, classes: [3] });
const b = buildSmallCnn({ seed: 2, imageSize: 16, classes: [3] });

/** A plugin that recognises models with a `conv1.weight` and renames every point `cnn.<i>`; prepare tags the graph. */
const cnnArch: Architecture = {
  name: 'cnn',
  description: 'test plugin',
  recognise: (g) =>
    g.initializers.has('conv1.weight') ? { match: true, variant: 'cnn-w8', summary: 'a small CNN' } : { match: false, reason: 'no conv1.weight' },
  prepare: (g: Graph) => ({ ...g, metadata: [...g.metadata, ['prepared', 'yes']] }),
  mergeGraph: (g) => {
    const mg = deriveMergeGraph(g);
    return { ...mg, points: mg.points.map((p, i) => ({ ...p, name: `cnn.${i}` })) };
  },
  references: [],
};
const never: Architecture = { ...cnnArch, name: 'never', recognise: () => ({ match: false, reason: 'never matches' }) };

describe('model inputs', () => {
  it('names models after their files, without the extension, made unique', () => {
    expect(modelNameOf('dir/sub/resnet_a.onnx')).toBe('resnet_a');
    expect(modelNameOf('C:\\m\\b.safetensors')).toBe('b');
    expect(
      namedModels([
        { file: 'x/a.onnx', graph: a },
        { file: 'y/a.onnx', graph: b },
        { file: 'a', graph: a },
      ]).map((m) => m.name),
    ).toEqual(['a', 'a_2', 'a_3']);
  });

  it('derives the merge graph when no plugin recognises model 0', () => {
    const inputs = prepareForMerge(
      namedModels([
        { file: 'a.onnx', graph: a },
        { file: 'b.onnx', graph: b },
      ]),
      createArchitectureRegistry(),
    );
    expect(inputs.architecture).toBeNull();
    expect(inputs.mergeGraph.points.map((p) => p.name)).toEqual(deriveMergeGraph(a).points.map((p) => p.name));
  });

  it('lets the recognising plugin prepare every model and declare the graph, as inspect shows it', () => {
    const registry = createArchitectureRegistry();
    registry.register(never);
    registry.register(cnnArch);
    const inputs = prepareForMerge(
      namedModels([
        { file: 'a.onnx', graph: a },
        { file: 'b.onnx', graph: b },
      ]),
      registry,
    );
    expect(inputs.architecture).toBe('cnn-w8');
    expect(inputs.models.every((m) => m.graph.metadata.some((e) => e[0] === 'prepared'))).toBe(true);
    const seen = inspectGraph(a, 'a.onnx', registry);
    expect(seen.declined).toEqual([{ architecture: 'never', reason: 'never matches' }]);
    expect(seen.prepared).toBe(true);
    expect(seen.mergeGraph.points.map((p) => p.name)).toEqual(inputs.mergeGraph.points.map((p) => p.name));
  });

  it('refuses models of different structure, naming model 0', () => {
    const wide = buildSmallCnn({ seed: 3, imageSize: 16, classes: [3], width: 16 });
    expect(() =>
      prepareForMerge(
        namedModels([
          { file: 'a.onnx', graph: a },
          { file: 'w.onnx', graph: wide },
        ]),
        createArchitectureRegistry(),
      ),
    ).toThrow(MismatchError);
  });
});
