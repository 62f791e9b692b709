import { describeNode, intAttr, LayoutReader, type Graph, type Node } from '@zipit/core';

/** One `nn.Linear` of the chain, and the ReLU after it (none after the head). */
export interface MlpLayer {
  gemm: Node;
  act?: Node;
  /** Module name (`layers.0`, `head`): the weight's name without `.weight`, else the node's name. */
  module: string;
  /** Output features (rows of the [out, in] weight). */
  features: number;
}

/** A tiny MLP: optionally `Flatten`, then Linear → ReLU, …, Linear (the head, a graph output). */
export interface MlpLayout {
  flatten?: Node;
  /** Hidden layers first; the last one is the head. */
  layers: MlpLayer[];
}

/**
 * Reads the tiny-MLP layout by data flow: one data input, an optional `Flatten(axis=1)`, then a
 * chain of `Gemm(transB=1)` with initializer weights, each followed by exactly one `Relu`, until
 * a `Gemm` writes the graph's only output. Anything else declines with the node it stopped at.
 */
export class MlpReader extends LayoutReader<MlpLayout> {
  protected parse(): MlpLayout {
    const inputs = this.dataInputs();
    if (inputs.length !== 1) this.decline(`expected one data input, found ${inputs.length}`);
    if (this.graph.outputs.length !== 1) this.decline(`expected one graph output, found ${this.graph.outputs.length}`);
    const output = this.graph.outputs[0].name;
    let value = inputs[0].name;
    let flatten: Node | undefined;
    const first = this.dataReaders(value);
    if (first.length === 1 && first[0].opType === 'Flatten') {
      flatten = first[0];
      if (intAttr(flatten, 'axis', 1) !== 1) this.decline(`${describeNode(flatten)} must keep the batch axis (axis = 1)`);
      value = flatten.outputs[0];
    }
    const layers: MlpLayer[] = [];
    for (;;) {
      const gemm = this.sole(value, 'Gemm', `expected a Linear layer (Gemm) as the only reader of ${value}, found ${this.readerList(value)}`);
      const weight = this.graph.initializers.get(gemm.inputs[1]);
      if (!weight || weight.shape.length !== 2) this.decline(`${describeNode(gemm)} has no [out, in] weight initializer`);
      if (intAttr(gemm, 'transB', 0) !== 1 || intAttr(gemm, 'transA', 0) !== 0)
        this.decline(`${describeNode(gemm)} is not an nn.Linear export (transA = 0, transB = 1)`);
      const w = gemm.inputs[1];
      const layer: MlpLayer = { gemm, module: w.endsWith('.weight') ? w.slice(0, -'.weight'.length) : gemm.name, features: weight.shape[0] };
      layers.push(layer);
      if (gemm.outputs[0] === output) break;
      layer.act = this.sole(gemm.outputs[0], 'Relu', `after ${describeNode(gemm)} expected a ReLU, found ${this.readerList(gemm.outputs[0])}`);
      value = layer.act.outputs[0];
    }
    if (layers.length < 2) this.decline(`${describeNode(layers[0].gemm)} is the only layer: a single Linear has no hidden features to merge`);
    return { ...(flatten ? { flatten } : {}), layers };
  }

  /** `a (Op), b (Op)` or `nothing`: the data readers of a value, for declined reasons. */
  private readerList(value: string): string {
    const rs = this.dataReaders(value);
    return rs.length ? rs.map(describeNode).join(', ') : 'nothing';
  }
}

/** The layout of `graph`, or why it is not a tiny MLP. */
export function readMlpLayout(graph: Graph) {
  return new MlpReader(graph).read();
}
