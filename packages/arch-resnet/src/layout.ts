import { describeNode as describe, LayoutReader, moduleName, type LayoutResult, type Graph, type Node } from '@zipit/core';

/**
 * The structure of a ResNet read from its graph: stem, residual blocks in order, global pooling
 * and the classifier. Parsing is by data flow, not by names, so PyTorch exports with or without
 * BatchNorm folded, and hand-built graphs, are recognised alike.
 */

/** A convolution and the BatchNorm after it (absent when folded). `out` is the unit's output value. */
export interface ConvUnit {
  conv: Node;
  bn?: Node;
  out: string;
}

export interface ResidualBlock {
  /** Module path of the block (`layer1.0`). */
  name: string;
  /** Block input value. */
  input: string;
  /** Main branch: 2 (BasicBlock) or 3 (Bottleneck) units; `relus[i]` follows `branch[i]` for all but the last. */
  branch: ConvUnit[];
  relus: Node[];
  /** Projection shortcut; absent for an identity shortcut. */
  shortcut?: ConvUnit;
  add: Node;
  /** The ReLU after the addition; its output is the block output. */
  relu: Node;
}

export interface ResNetLayout {
  input: string;
  stem: ConvUnit;
  stemRelu: Node;
  stemPool?: Node;
  blocks: ResidualBlock[];
  /** GlobalAveragePool or ReduceMean over the spatial axes. */
  pool: Node;
  /** Flatten / Reshape nodes between the pooling and the head. */
  flatten: Node[];
  /** The classifier (Gemm, or MatMul followed by `headBias`). */
  head: Node;
  headBias?: Node;
}

/** Reads the ResNet structure of `graph`, or says (naming a node) why it is not one. */
export function readResnetLayout(graph: Graph): LayoutResult<ResNetLayout> {
  return new ResnetLayoutReader(graph).read();
}

class ResnetLayoutReader extends LayoutReader<ResNetLayout> {
  protected parse(): ResNetLayout {
    const inputs = this.dataInputs();
    if (inputs.length !== 1) this.decline(`the model has ${inputs.length} inputs, expected one image input`);
    const input = inputs[0].name;
    const first = this.dataReaders(input);
    if (first.length !== 1 || first[0].opType !== 'Conv') this.decline(`the input is not read by exactly one Conv (stem)`);
    const stem = this.unit(first[0]);
    const stemRelu = this.sole(stem.out, 'Relu', `no ReLU after the stem ${describe(stem.conv)}`);
    let x = stemRelu.outputs[0];
    let stemPool: Node | undefined;
    const afterStem = this.dataReaders(x);
    if (afterStem.length === 1 && afterStem[0].opType === 'MaxPool') {
      stemPool = afterStem[0];
      x = stemPool.outputs[0];
    }
    const blocks: ResidualBlock[] = [];
    for (;;) {
      const readers = this.dataReaders(x);
      const pool = readers.find((n) => n.opType === 'GlobalAveragePool' || n.opType === 'ReduceMean');
      if (pool && readers.length === 1) {
        if (blocks.length === 0) this.decline(`no residual Add found after node ${describe(this.producerOf.get(x)!)}`);
        return { input, stem, stemRelu, stemPool, blocks, ...this.tail(pool) };
      }
      const block = this.block(x, readers, blocks.length);
      blocks.push(block);
      x = block.relu.outputs[0];
    }
  }

  private block(x: string, readers: Node[], index: number): ResidualBlock {
    const where = describe(this.producerOf.get(x)!);
    const convs = readers.filter((n) => n.opType === 'Conv');
    if (convs.length === 0 || readers.some((n) => n.opType !== 'Conv' && n.opType !== 'Add')) {
      this.decline(`after node ${where} expected the convolutions of a residual block, found ${readers.map((n) => n.opType).join(', ') || 'nothing'}`);
    }
    let branch: ConvUnit[] | undefined;
    let relus: Node[] = [];
    let shortcut: ConvUnit | undefined;
    let add: Node | undefined;
    for (const conv of convs) {
      const u = this.unit(conv);
      const next = this.dataReaders(u.out);
      if (next.length === 1 && next[0].opType === 'Add') {
        if (shortcut) this.decline(`two shortcut convolutions read the output of node ${where}`);
        shortcut = u;
        continue;
      }
      if (branch) this.decline(`two residual branches start after node ${where}`);
      [branch, relus, add] = this.branch(u);
    }
    if (!branch || !add) return this.decline(`no residual branch (Conv → ReLU → Conv → Add) after node ${where}`);
    if (branch.length !== 2 && branch.length !== 3) {
      this.decline(`the block at ${describe(branch[0].conv)} has ${branch.length} convolutions on its main branch, expected 2 or 3`);
    }
    const other = add.inputs.find((v) => v !== branch![branch!.length - 1].out);
    if (shortcut ? other !== shortcut.out : other !== x) {
      this.decline(`the residual Add ${describe(add)} does not add the block input or its shortcut`);
    }
    const relu = this.sole(add.outputs[0], 'Relu', `no ReLU after the residual Add ${describe(add)}`);
    const convName = moduleName(this.graph, branch[0].conv);
    const dot = convName.lastIndexOf('.');
    const name = dot > 0 ? convName.slice(0, dot) : `block${index}`;
    return { name, input: x, branch, relus, shortcut, add, relu };
  }

  /** Follows Conv [BN] (ReLU Conv [BN])* to the residual Add. */
  private branch(first: ConvUnit): [ConvUnit[], Node[], Node] {
    const units = [first];
    const relus: Node[] = [];
    for (let guard = 0; guard < 8; guard++) {
      const u = units[units.length - 1];
      const next = this.dataReaders(u.out);
      if (next.length !== 1) this.decline(`the output of ${describe(u.conv)} is read ${next.length} times inside a residual branch`);
      if (next[0].opType === 'Add') return [units, relus, next[0]];
      if (next[0].opType !== 'Relu') this.decline(`expected ReLU or Add after ${describe(u.conv)}, found ${next[0].opType}`);
      relus.push(next[0]);
      const conv = this.dataReaders(next[0].outputs[0]);
      if (conv.length !== 1 || conv[0].opType !== 'Conv') this.decline(`expected one Conv after ${describe(next[0])}`);
      units.push(this.unit(conv[0]));
    }
    return this.decline(`the residual branch from ${describe(first.conv)} is too long`);
  }

  private tail(pool: Node): Pick<ResNetLayout, 'pool' | 'flatten' | 'head' | 'headBias'> {
    if (pool.opType === 'ReduceMean') {
      const axes = pool.attributes.find((a) => a.name === 'axes');
      if (axes && axes.value.type === 'ints' && axes.value.value.some((a) => a < 2 && a >= 0)) {
        this.decline(`${describe(pool)} does not pool over the spatial axes`);
      }
    }
    const flatten: Node[] = [];
    let v = pool.outputs[0];
    for (let guard = 0; guard < 4; guard++) {
      const next = this.dataReaders(v);
      if (next.length !== 1) break;
      const n = next[0];
      if (n.opType === 'Flatten' || n.opType === 'Reshape' || n.opType === 'Squeeze') {
        flatten.push(n);
        v = n.outputs[0];
        continue;
      }
      if (n.opType === 'Gemm') return { pool, flatten, head: n };
      if (n.opType === 'MatMul') {
        const bias = this.dataReaders(n.outputs[0]);
        const headBias = bias.length === 1 && bias[0].opType === 'Add' ? bias[0] : undefined;
        return { pool, flatten, head: n, headBias };
      }
      break;
    }
    return this.decline(`no linear classifier after the global pooling ${describe(pool)}`);
  }

  /** Conv and the BatchNorm that alone reads it. */
  private unit(conv: Node): ConvUnit {
    if (!this.graph.initializers.has(conv.inputs[1])) this.decline(`the weight of ${describe(conv)} is not an initializer`);
    const group = conv.attributes.find((a) => a.name === 'group');
    if (group && group.value.type === 'int' && group.value.value !== 1) this.decline(`${describe(conv)} is a grouped convolution`);
    const next = this.dataReaders(conv.outputs[0]);
    if (next.length === 1 && next[0].opType === 'BatchNormalization') return { conv, bn: next[0], out: next[0].outputs[0] };
    return { conv, out: conv.outputs[0] };
  }
}
