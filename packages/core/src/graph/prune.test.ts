import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../errors.js';
import { buildSmallCnn } from '../testing/models.js';
import { pruneToValues } from './prune.js';

describe('pruneToValues', () => {
  const g = buildSmallCnn({ seed: 1 });

  it('keeps the nodes and parameters that compute the values, and makes them the only outputs', () => {
    const early = g.nodes[1].outputs[0];
    const p = pruneToValues(g, [early, early]);
    expect(p.nodes).toEqual(g.nodes.slice(0, 2));
    expect(p.outputs.map((o) => o.name)).toEqual([early]);
    const read = new Set(p.nodes.flatMap((n) => n.inputs));
    expect([...p.initializers.keys()].every((k) => read.has(k))).toBe(true);
    expect(p.initializers.size).toBeGreaterThan(0);
    expect(p.initializers.size).toBeLessThan(g.initializers.size);
    expect(p.inputs).toEqual(g.inputs);
  });

  it('keeps everything for the graph outputs, and refuses unknown names', () => {
    const p = pruneToValues(
      g,
      g.outputs.map((o) => o.name),
    );
    expect(p.nodes).toEqual(g.nodes);
    expect(p.initializers).toEqual(g.initializers);
    expect(() => pruneToValues(g, ['nope'])).toThrow(NotFoundError);
  });
});
