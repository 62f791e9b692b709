import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FormatError, type Graph } from '@zipit/core';
import { readOnnx } from './read.js';
import { writeOnnx } from './write.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const base = () => readOnnx(readFileSync(join(FIXTURES, 'cnn_bn_opset17.onnx')), { file: 'cnn.onnx' });

/** Writes the broken graph (the writer does not validate) and reads it back as a file would be. */
function reread(g: Graph): () => Graph {
  const bytes = writeOnnx(g);
  return () => readOnnx(bytes, { file: 'broken.onnx' });
}

describe('graph validation on read', () => {
  it('accepts every fixture model', () => {
    for (const f of ['cnn_bn_opset13.onnx', 'cnn_folded_opset17.onnx', 'mlp_view_opset13.onnx', 'resnet_block_opset17.onnx']) {
      expect(() => readOnnx(readFileSync(join(FIXTURES, f)), { file: f })).not.toThrow();
    }
  });

  it('refuses a cycle, naming a node on it and the file', () => {
    const g = base();
    const last = g.nodes.length - 1;
    // Node 1 now reads the output of the last node, which depends on node 1: a cycle.
    const n1 = g.nodes[1];
    g.nodes[1] = { ...n1, inputs: [g.nodes[last - 1].outputs[0], ...n1.inputs.slice(1)] };
    const read = reread(g);
    expect(read).toThrow(FormatError);
    expect(read).toThrow(/^broken\.onnx.*cycle through node "[^"]+"/);
    const msg = (() => {
      try {
        read();
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    const named = [...msg.matchAll(/node "([^"]+)"/g)].map((m) => m[1]);
    expect(named).toContain(n1.name);
  });

  it('refuses a node input that nothing defines', () => {
    const g = base();
    g.nodes[2] = { ...g.nodes[2], inputs: ['nowhere', ...g.nodes[2].inputs.slice(1)] };
    expect(reread(g)).toThrow(
      new RegExp(`broken\\.onnx, node ${g.nodes[2].name}: node "${g.nodes[2].name}" \\(${g.nodes[2].opType}\\) reads "nowhere", which no node`),
    );
  });

  it('refuses a graph without outputs, and an output nothing produces', () => {
    const g = base();
    expect(reread({ ...g, outputs: [] })).toThrow(/broken\.onnx: the graph has no outputs/);
    expect(reread({ ...g, outputs: [{ ...g.outputs[0], name: 'ghost' }] })).toThrow(/graph output "ghost" is not produced/);
  });

  it('refuses duplicate node names and values produced twice', () => {
    const g = base();
    const dupName = { ...g, nodes: g.nodes.map((n, i) => (i === 3 ? { ...n, name: g.nodes[1].name } : n)) };
    expect(reread(dupName)).toThrow(/another node has the same name/);
    const twice = { ...g, nodes: g.nodes.map((n, i) => (i === 3 ? { ...n, outputs: [g.nodes[1].outputs[0]] } : n)) };
    expect(reread(twice)).toThrow(/already defines/);
  });

  it('refuses nodes out of topological order without calling it a cycle', () => {
    const g = base();
    const nodes = [...g.nodes];
    [nodes[1], nodes[2]] = [nodes[2], nodes[1]];
    expect(reread({ ...g, nodes })).toThrow(/before node .* produces it \(nodes must be in topological order\)/);
  });
});
