import { describe, expect, it } from 'vitest';
import { structureDifference } from '../merge/same-structure.js';
import { tensor } from '../tensor/tensor.js';
import { alignNames } from './align-names.js';
import { GraphBuilder } from './builder.js';
import type { Graph } from './graph.js';

/** Conv → Relu → Reshape([1, -1]) → Gemm on a fixed [1, 3, 4, 4] input, constants as initializers. */
function model(seed: number, target = [1, -1]): Graph {
  const b = new GraphBuilder({ opset: 14, constants: 'initializer', seed });
  const x = b.input('input', [1, 3, 4, 4]);
  b.output(b.gemm(b.reshape(b.relu(b.conv(x, 2, { kernel: 3, pad: 1 })), target), 3), 'logits');
  return b.build();
}

/** `g` with every node, intermediate value and parameter renamed (as another export would number them). */
function renamed(g: Graph): Graph {
  const keep = new Set([...g.inputs, ...g.outputs].map((v) => v.name));
  const name = (v: string) => (!v || keep.has(v) ? v : `other${v}`);
  return {
    ...g,
    nodes: g.nodes.map((n) => ({ ...n, name: `other${n.name}`, inputs: n.inputs.map(name), outputs: n.outputs.map(name) })),
    initializers: new Map([...g.initializers].reverse().map(([k, t]) => [name(k), t])),
  };
}

describe('alignNames', () => {
  it("gives a graph that is one computation under other names the reference's names, keeping its own weights", () => {
    const a = model(1);
    const b = model(2);
    expect(structureDifference(a, renamed(b))).not.toBeNull();
    const aligned = alignNames(a, renamed(b));
    expect(aligned.difference).toBeNull();
    const g = aligned.graph!;
    expect(structureDifference(a, g)).toBeNull();
    expect(g.nodes.map((n) => n.name)).toEqual(a.nodes.map((n) => n.name));
    expect([...g.initializers.keys()]).toEqual([...a.initializers.keys()]);
    for (const [k, t] of b.initializers) expect(g.initializers.get(k)).toBe(t);
  });

  it('refuses a different shape constant, naming the node and both values', () => {
    const d = alignNames(model(1), renamed(model(1, [1, 32]))).difference;
    expect(d?.message).toMatch(/node 2 .*\(Reshape\): constant input 1 is int64\[2\] = \[1, -1\] vs int64\[2\] = \[1, 32\]/);
    expect(d?.node).toBe(model(1).nodes[2].name);
  });

  it('refuses another operator, other attributes and a weight shared differently', () => {
    const a = model(1);
    const other = renamed(a);
    const sigmoid = { ...other, nodes: other.nodes.map((n) => (n.opType === 'Relu' ? { ...n, opType: 'Sigmoid' } : n)) };
    expect(alignNames(a, sigmoid).difference?.message).toMatch(/node 1 is ".*" \(Relu\) vs ".*" \(Sigmoid\)/);
    const strided = {
      ...other,
      nodes: other.nodes.map((n) =>
        n.opType === 'Conv'
          ? { ...n, attributes: n.attributes.map((t) => (t.name === 'strides' ? { ...t, value: { type: 'ints' as const, value: [2, 2] } } : t)) }
          : n,
      ),
    };
    expect(alignNames(a, strided).difference?.message).toMatch(/attribute strides is \[1,1\] vs \[2,2\]/);
    // Gemm reads the Conv's bias as its bias too: one weight where the reference has two.
    const gemm = other.nodes.find((n) => n.opType === 'Gemm')!;
    const conv = other.nodes.find((n) => n.opType === 'Conv')!;
    const shared = {
      ...other,
      initializers: new Map([...other.initializers, [conv.inputs[2], tensor('float32', [2], Float32Array.of(0, 0))]]),
      nodes: other.nodes.map((n) => (n === gemm ? { ...n, inputs: [n.inputs[0], n.inputs[1], conv.inputs[2]] } : n)),
    };
    expect(alignNames(a, shared).difference?.message).toMatch(/parameter input 2 .* is shared differently/);
  });
});
