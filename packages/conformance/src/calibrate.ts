import { consumers, SeededRandom, tensor, type Graph, type Node, type Tensor } from '@zipit/core';
import type { SuiteRuntime } from './runtime.js';

/**
 * Data-dependent initialisation of a seeded reference model, so that its activations have the
 * scale of a trained network's: every BatchNormalization gets the statistics of its input on
 * `x` (one train-mode pass); a Conv with no BatchNorm after it (BatchNorm folded) gets a
 * temporary one, calibrated the same way and folded back into its weight and bias, so the
 * graph keeps its structure and names. Random weights with random BatchNorm statistics otherwise
 * let activations grow layer after layer (logits in the thousands for a ResNet-50, channels
 * that never fire), which no trained model looks like. Graphs without Conv or BatchNorm come
 * back unchanged.
 */
export async function calibrate(g: Graph, x: Tensor<'float32'>, runtime: SuiteRuntime): Promise<Graph> {
  if (!g.nodes.some((n) => n.opType === 'Conv' || n.opType === 'BatchNormalization')) return g;
  const readers = consumers(g);
  const rng = new SeededRandom(5);
  const inits = new Map(g.initializers);
  const nodes: Node[] = [];
  const temporary: { conv: Node; bn: Node }[] = [];
  for (const node of g.nodes) {
    const rs = node.opType === 'Conv' ? (readers.get(node.outputs[0]) ?? []) : [];
    if (node.opType !== 'Conv' || (rs.length === 1 && rs[0].opType === 'BatchNormalization') || !node.inputs[2]) {
      nodes.push(node);
      continue;
    }
    const c = g.initializers.get(node.inputs[1])!.shape[0];
    const pre = `${node.outputs[0]}/uncalibrated`;
    const p = `${node.name}/calibration`;
    const params = [
      [`${p}.weight`, rng.uniformTensor([c], 0.5, 1.5)],
      [`${p}.bias`, rng.normalTensor([c], 0.1)],
      [`${p}.running_mean`, tensor('float32', [c], new Float32Array(c))],
      [`${p}.running_var`, tensor('float32', [c], new Float32Array(c).fill(1))],
    ] as const;
    for (const [name, t] of params) inits.set(name, t);
    const bn: Node = {
      name: `${p}/BatchNormalization`,
      opType: 'BatchNormalization',
      domain: '',
      inputs: [pre, ...params.map(([name]) => name)],
      outputs: [node.outputs[0]],
      attributes: [{ name: 'epsilon', value: { type: 'float', value: 1e-5 } }],
    };
    nodes.push({ ...node, outputs: [pre, ...node.outputs.slice(1)] }, bn);
    temporary.push({ conv: node, bn });
  }
  const reset = await runtime.resetBatchNorm({ ...g, nodes, initializers: inits }, x);
  if (temporary.length === 0) return reset;
  const out = new Map(g.initializers);
  for (const [name, t] of reset.initializers) if (out.has(name)) out.set(name, t);
  for (const { conv, bn } of temporary) {
    const [gamma, beta, mean, variance] = bn.inputs.slice(1).map((n) => reset.initializers.get(n)!.data as Float32Array);
    const w = out.get(conv.inputs[1])!;
    const c = w.shape[0];
    const per = w.data.length / c;
    const scale = gamma.map((gm, o) => gm / Math.sqrt(variance[o] + 1e-5));
    out.set(
      conv.inputs[1],
      tensor(
        'float32',
        w.shape,
        Float32Array.from(w.data as Float32Array, (v, i) => v * scale[Math.floor(i / per)]),
      ),
    );
    const b = out.get(conv.inputs[2])!.data as Float32Array;
    out.set(
      conv.inputs[2],
      tensor(
        'float32',
        [c],
        b.map((v, o) => (v - mean[o]) * scale[o] + beta[o]),
      ),
    );
  }
  return { ...g, initializers: out };
}
