import { assembleMergeGraph, defineArchitecture, GraphBuilder, type Graph, type PointDraft, type ReferenceModel } from '@zipit/core';
import { readMlpLayout, type MlpLayout } from './mlp-layout.js';

export interface TinyMlpOptions {
  seed: number;
  /** Labels of the head (default 10). */
  classes?: number;
  /** Input shape without the batch: `[F]`, or `[C, H, W]` read through a Flatten (default `[12]`). */
  input?: number[];
  /** Widths of the hidden layers (default `[16, 16]`). */
  hidden?: number[];
}

/**
 * A tiny MLP as PyTorch exports `nn.Sequential(Flatten?, Linear, ReLU, …, Linear)`, built with
 * core's GraphBuilder: hidden layers `layers.k`, head `head`, output `logits`, seeded weights.
 */
export function buildTinyMlp(opts: TinyMlpOptions): Graph {
  const b = new GraphBuilder({ seed: opts.seed });
  const shape = opts.input ?? [12];
  let x = b.input('x', ['batch', ...shape]);
  if (shape.length > 1) x = b.flatten(x, { name: 'flatten' });
  (opts.hidden ?? [16, 16]).forEach((width, k) => {
    x = b.relu(b.gemm(x, width, { name: `layers.${k}` }), { name: `layers.${k}.act` });
  });
  b.output(b.gemm(x, opts.classes ?? 10, { name: 'head' }), 'logits');
  return b.build();
}

/**
 * Two reference models for the conformance suite: a flat input, and an image read through a
 * Flatten. Sizes are chosen so that no hidden unit of the suite's seeded models is dead on its
 * random inputs (a ReLU that never fires has zero variance, so no covariance-based method can
 * tell two dead units apart, and "permute recovers a permuted copy exactly" would be ill-posed:
 * [1, 6, 6] → 24 → 20 → 24 has two such units at seed 1).
 */
const references: ReferenceModel[] = [
  { name: 'mlp-12-16x2', input: { name: 'x', shape: ['batch', 12] }, build: ({ seed, classes }) => buildTinyMlp({ seed, classes }) },
  {
    name: 'mlp-1x6x6-24x2',
    input: { name: 'x', shape: ['batch', 1, 6, 6] },
    build: ({ seed, classes }) => buildTinyMlp({ seed, classes, input: [1, 6, 6], hidden: [24, 24] }),
  },
];

/**
 * The merge graph of a tiny MLP: one point per hidden layer — the features written by its
 * Linear (weight rows, bias) and read by the next Linear (weight columns), observed after the
 * ReLU — and the head. Point names follow core's convention, `<consuming module>:in`.
 */
function declare(graph: Graph, layout: MlpLayout) {
  const drafts: PointDraft[] = layout.layers.slice(0, -1).map((layer, k) => {
    const next = layout.layers[k + 1];
    const [, weight, bias] = layer.gemm.inputs;
    return {
      name: `${next.module}:in`,
      observe: { value: layer.act!.outputs[0], axis: 1 },
      values: [
        { value: layer.gemm.outputs[0], axis: 1 },
        { value: layer.act!.outputs[0], axis: 1 },
      ],
      producers: [{ param: weight, axis: 0, node: layer.gemm.name }, ...(bias ? [{ param: bias, axis: 0, node: layer.gemm.name }] : [])],
      consumers: [{ param: next.gemm.inputs[1], axis: 1, node: next.gemm.name }],
    };
  });
  const head = layout.layers[layout.layers.length - 1];
  return assembleMergeGraph(graph, drafts, [{ name: head.module, node: head.gemm.name, classes: head.features }]);
}

/** The tiny-MLP architecture plugin: a plain object; register it where you build your registry. */
export const tinyMlpArch = defineArchitecture<MlpLayout>({
  name: 'tiny-mlp',
  family: 'tiny MLP',
  description: 'Linear → ReLU chains ending in one Linear head (optionally after a Flatten), as nn.Sequential exports them',
  read: readMlpLayout,
  summarise: (_graph, layout) => {
    const widths = layout.layers.slice(0, -1).map((l) => l.features);
    const head = layout.layers[layout.layers.length - 1];
    return { variant: `mlp-${widths.join('-')}`, summary: `MLP, hidden ${widths.join(' → ')}, ${head.features} classes` };
  },
  declare,
  references,
});
