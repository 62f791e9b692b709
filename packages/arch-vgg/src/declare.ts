import { assembleMergeGraph, moduleName, type Graph, type MergeGraph, type Node, type ParamRef, type PointDraft } from '@zipit/core';
import type { VggLayout } from './layout.js';

/**
 * The merge graph of a VGG, declared from its layout: one point per conv layer — the layer's
 * output channels, written by its Conv (weight and bias) and BatchNorm (affine parameters and
 * running statistics), read by the next Conv or by the classifier, observed after the ReLU —
 * named `<reader>:in` (`features.4:in`, …, `classifier:in`). The classifier is the task head.
 */
export function declareVggMergeGraph(graph: Graph, layout: VggLayout): MergeGraph {
  const ref = (node: Node, index: number, axis: number): ParamRef => ({ param: node.inputs[index], axis, node: node.name });
  const { layers, classifier } = layout;
  const drafts: PointDraft[] = layers.map((layer, i) => {
    const reader = i + 1 < layers.length ? layers[i + 1].conv : classifier;
    const producers = [ref(layer.conv, 1, 0)];
    if (layer.conv.inputs[2]) producers.push(ref(layer.conv, 2, 0));
    if (layer.batchNorm) for (const k of [1, 2, 3, 4]) producers.push(ref(layer.batchNorm, k, 0));
    const carriers = [layer.conv, layer.batchNorm, layer.relu, layer.pool, ...(reader === classifier ? layout.tail : [])];
    return {
      name: `${moduleName(graph, reader)}:in`,
      channels: layer.channels,
      observe: { value: layer.relu.outputs[0], axis: 1 },
      values: carriers.filter((n): n is Node => n !== undefined).map((n) => ({ value: n.outputs[0], axis: 1 })),
      producers,
      consumers: [ref(reader, 1, reader === classifier ? layout.classifierInputAxis : 1)],
    };
  });
  const head = { name: moduleName(graph, classifier), node: classifier.name, outputs: [classifier.outputs[0]], classes: layout.classes };
  return assembleMergeGraph(graph, drafts, [head]);
}
