import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { sizeOf } from '@zipit/core';
import { readOnnxFile } from '@zipit/io-onnx/node';
import { ConcreteShapes } from './concrete.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

describe('ConcreteShapes', () => {
  it("resolves a dynamic-batch timm export's shape arithmetic under the graph's own value names", async () => {
    const g = await readOnnxFile(fixture('vit_d4_h4_fused_opset17.onnx'));
    expect(typeof g.inputs[0].shape?.[0]).toBe('string');
    const cs = new ConcreteShapes(g, 2);
    const shapeNodes = g.nodes.filter((n) => n.opType === 'Shape');
    expect(shapeNodes.length).toBeGreaterThan(0);
    // `Shape` outputs are folded away, yet still answer (the input's with the fixed batch first).
    for (const n of shapeNodes) {
      if (n.inputs[0] === g.inputs[0].name) expect(cs.values(n.outputs[0])).toEqual([2, ...(g.inputs[0].shape!.slice(1) as number[])]);
      expect(cs.values(n.outputs[0])).toEqual(cs.shape(n.inputs[0]));
    }
    // Every Reshape has a known target and keeps the element count.
    const reshapes = g.nodes.filter((n) => n.opType === 'Reshape');
    expect(reshapes.length).toBeGreaterThan(0);
    for (const n of reshapes) {
      expect(cs.values(n.inputs[1])).toBeDefined();
      expect(sizeOf(cs.shape(n.outputs[0])!)).toBe(sizeOf(cs.shape(n.inputs[0])!));
    }
    // Activations get concrete shapes: the logits are [batch, classes].
    expect(cs.shape(g.outputs[0].name)?.[0]).toBe(2);
  });
});
