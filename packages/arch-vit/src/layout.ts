import { commonModulePrefix, intAttr, intsAttr, LayoutReader, moduleName, sizeOf, type Graph, type LayoutResult, type Node } from '@zipit/core';
import { ConcreteShapes } from './concrete.js';
import { applyChain, channelIds, isIdentityOn, isLayoutStep, type Ids } from './trace.js';

/**
 * The structure of a Vision Transformer read from its graph by data flow (not by names), so
 * PyTorch exports of hand-written ViTs (separate or fused Q/K/V Linear layers, timm style),
 * `nn.MultiheadAttention`, opset 13 (LayerNorm written out as ReduceMean/Sub/Pow/Sqrt/Div) or
 * 17 (`LayerNormalization`), and graphs built by {@link buildVit} are recognised alike.
 *
 * Expected: one image input → patch embedding (Conv with stride = kernel, or a MatMul on
 * patches) → tokens [B, T, D] (channels last) → optional class token (a parameter concatenated
 * along tokens) → optional position embedding (a parameter added) → pre-norm blocks
 * `x + attn(norm1(x))`, `x + mlp(norm2(x))` → final norm → class token or mean over tokens →
 * linear head. Where channels go inside attention is checked by tracing channel ids through the
 * layout operators (see trace.ts), whatever layout the exporter chose.
 */

/** A layer with weights: MatMul (+ bias Add), Gemm, or Conv (the patch embedding). */
export interface Linear {
  node: Node;
  weight: string;
  /** Axes of the weight holding input and output channels. */
  inAxis: number;
  outAxis: number;
  inChannels: number;
  outChannels: number;
  bias?: string;
  /** The Add that applies the bias after a MatMul (Gemm and Conv carry it as an input). */
  biasNode?: Node;
  /** Output value, after the bias. */
  output: string;
  /** Every value the layer writes (MatMul output, then its bias Add's). */
  values: string[];
  module: string;
}

/** LayerNorm over the last axis: one `LayerNormalization` node or its decomposition. */
export interface Norm {
  nodes: Node[];
  input: string;
  output: string;
  scale?: string;
  bias?: string;
  /** Values that carry the normalised channels on the last axis. */
  values: string[];
  module: string;
}

/** A head-split projection: the Q, K or V channels start at `offset` of the layer's outputs. */
export interface Projection {
  linear: Linear;
  offset: number;
}

export interface Attention {
  module: string;
  q: Projection;
  k: Projection;
  v: Projection;
  heads: number;
  /** Channels per head of Q/K and of V. */
  qkHeadDim: number;
  vHeadDim: number;
  out: Linear;
  /** The Softmax over keys; its input holds the attention logits (scaled q·k, one row per query and head). */
  softmax: Node;
  /** The attention output in token layout, as the output projection reads it (channels last). */
  outInput: string;
  /** Values between the heads' output and `outInput` that carry V's channels on the last axis. */
  outInputValues: string[];
  /** The value added to the residual stream, and the values from the projection to it (channels last). */
  output: string;
  outputValues: string[];
}

export interface VitBlock {
  name: string;
  /** A linear layer on the stream in front of the block (see `prepareVit`), absent in plain exports. */
  junction?: Linear;
  /** The stream value the block reads (after the junction). */
  input: string;
  norm1: Norm;
  attn: Attention;
  add1: Node;
  norm2: Norm;
  fc1: Linear;
  fc2: Linear;
  /** Values between fc1 and fc2 (the activation) with the hidden channels last; the last one is fc2's input. */
  hiddenValues: string[];
  add2: Node;
  output: string;
}

export interface VitLayout {
  input: string;
  patch: Linear;
  /** Values from the patch embedding to the tokens [B, T, D], with their channel axis. */
  tokenValues: { value: string; axis: number }[];
  cls?: { param: string; nodes: Node[]; concat: Node };
  pos?: { param: string; node: Node };
  /** The embedded tokens entering block 0 (before a junction), and the values on the way (channels last). */
  embed: string;
  embedValues: string[];
  blocks: VitBlock[];
  norm: Norm;
  pool: { kind: 'cls' | 'mean'; nodes: Node[]; output: string };
  head: Linear;
  dim: number;
  tokens: number;
}

/** Reads the ViT structure of `graph`, or says (naming a node) why it is not one. */
export function readVitLayout(graph: Graph): LayoutResult<VitLayout> {
  return new VitLayoutReader(graph).read();
}

interface Step {
  node: Node;
  output: string;
}

interface Core {
  softmax: Node;
  q: { linear: Linear; chain: Step[] };
  k: { linear: Linear; chain: Step[] };
  v: { linear: Linear; chain: Step[] };
  scores: Node;
  mix: Node;
}

const SHAPE_READERS = new Set(['Shape', 'Size']);

class VitLayoutReader extends LayoutReader<VitLayout> {
  private readonly cs: ConcreteShapes;
  private readonly features = new Set<string>();

  constructor(graph: Graph) {
    super(graph);
    this.cs = new ConcreteShapes(graph, 2);
  }

  protected parse(): VitLayout {
    const inputs = this.graph.inputs.filter((i) => !this.graph.initializers.has(i.name));
    if (inputs.length !== 1) this.fail(`the model has ${inputs.length} inputs, expected one image input`);
    const input = inputs[0].name;
    this.markFeatures(input);

    const { patch, tokenValues, tokens } = this.readPatchEmbedding(input);
    const dim = patch.outChannels;
    let cur = tokens;
    const embedValues = [tokens];
    let cls: VitLayout['cls'];
    const concat = this.next(cur).find((n) => n.opType === 'Concat');
    if (concat) {
      const rank = this.rank(cur);
      if (norm(intAttr(concat, 'axis', 0), rank) !== rank - 2) this.fail(`${describe(concat)} does not concatenate along the token axis`);
      const others = concat.inputs.filter((v) => v !== cur);
      if (others.length !== 1 || this.features.has(others[0])) this.fail(`${describe(concat)} is not a class-token concatenation`);
      cls = { ...this.traceParameter(others[0], dim, concat), concat };
      cur = concat.outputs[0];
      embedValues.push(cur);
    }
    let pos: VitLayout['pos'];
    const add = this.next(cur).find((n) => n.opType === 'Add' && n.inputs.some((v) => this.isParamOfSize(v, dim, true)));
    if (add) {
      const param = add.inputs.find((v) => v !== cur)!;
      if (!this.graph.initializers.has(param)) this.fail(`the position embedding added by ${describe(add)} is not a parameter`);
      pos = { param, node: add };
      cur = add.outputs[0];
      embedValues.push(cur);
    }
    cur = this.skipPassThrough(cur, embedValues);
    const embed = cur;
    if (this.shapeOf(embed).length !== 3) this.fail(`the embedded tokens "${embed}" are not [batch, tokens, channels]`);
    const tokenCount = this.shapeOf(embed)[1];

    const blocks: VitBlock[] = [];
    for (;;) {
      const block = this.readBlock(cur, dim, blocks.length);
      if (!block) break;
      blocks.push(block);
      cur = block.output;
    }
    if (blocks.length === 0) this.fail(`no transformer block (LayerNorm, attention, residual Add) reads the embedded tokens "${embed}"`);
    const finalNorm = this.readNorm(cur);
    if (!finalNorm) this.fail(`no final LayerNorm after the last block (output "${cur}")`);
    const pool = this.readPool(finalNorm.output);
    const head = this.readHead(pool.output);
    return {
      input,
      patch,
      tokenValues,
      cls,
      pos,
      embed,
      embedValues,
      blocks,
      norm: finalNorm,
      pool,
      head,
      dim,
      tokens: tokenCount,
    };
  }

  // ---------------------------------------------------------------- embedding

  private readPatchEmbedding(input: string): { patch: Linear; tokenValues: { value: string; axis: number }[]; tokens: string } {
    const first = this.next(input);
    const conv = first.find((n) => n.opType === 'Conv');
    if (conv) {
      const w = this.graph.initializers.get(conv.inputs[1]);
      if (!w) this.fail(`the weight of ${describe(conv)} is not a parameter`);
      const kernel = intsAttr(conv, 'kernel_shape') ?? w.shape.slice(2);
      const strides = intsAttr(conv, 'strides') ?? kernel.map(() => 1);
      const pads = intsAttr(conv, 'pads') ?? [];
      if (intAttr(conv, 'group', 1) !== 1 || kernel.some((k, i) => k !== strides[i]) || pads.some((p) => p !== 0)) {
        this.fail(`${describe(conv)} is not a patch embedding (it needs stride = kernel, no padding, group 1)`);
      }
      const patch: Linear = {
        node: conv,
        weight: conv.inputs[1],
        inAxis: 1,
        outAxis: 0,
        inChannels: w.shape[1],
        outChannels: w.shape[0],
        bias: conv.inputs[2] || undefined,
        output: conv.outputs[0],
        values: [conv.outputs[0]],
        module: moduleName(this.graph, conv),
      };
      const tokenValues = [{ value: conv.outputs[0], axis: 1 }];
      let cur = conv.outputs[0];
      let ids: Ids = channelIds(this.shapeOf(cur), 1);
      for (let guard = 0; ; guard++) {
        const s = this.shapeOf(cur);
        if (s.length === 3 && isIdentityOn(ids, 2)) break;
        const next = this.next(cur);
        if (guard > 6 || next.length !== 1 || !isLayoutStep(next[0], cur, this.cs)) {
          this.fail(`the patch embedding output "${cur}" is not rearranged into [batch, tokens, channels]`);
        }
        const stepped = applyChain([{ node: next[0], output: next[0].outputs[0] }], ids, this.cs);
        if (!stepped) this.fail(`cannot follow the channels of the patch embedding through ${describe(next[0])}`);
        ids = stepped;
        cur = next[0].outputs[0];
        const axis = channelAxisOf(ids);
        if (axis !== undefined) tokenValues.push({ value: cur, axis });
      }
      return { patch, tokenValues, tokens: cur };
    }
    let cur = input;
    for (let guard = 0; guard < 8; guard++) {
      const next = this.next(cur);
      const lin = next.length === 1 ? this.linearStartingAt(next[0], cur) : undefined;
      if (lin) {
        if (this.shapeOf(lin.output).length !== 3) this.fail(`the patch projection ${describe(lin.node)} does not output [batch, tokens, channels]`);
        return { patch: lin, tokenValues: lin.values.map((value) => ({ value, axis: 2 })), tokens: lin.output };
      }
      if (next.length !== 1 || !isLayoutStep(next[0], cur, this.cs)) break;
      cur = next[0].outputs[0];
    }
    return this.fail('the input is not read by a patch embedding (a Conv with stride = kernel, or a MatMul on patches)');
  }

  /** The parameter behind a class token: the initializer `v` is computed from by Expand/Tile/Reshape/…, with D entries. */
  private traceParameter(v: string, dim: number, at: Node): { param: string; nodes: Node[] } {
    const nodes: Node[] = [];
    let cur = v;
    for (let guard = 0; guard < 8; guard++) {
      if (this.graph.initializers.has(cur)) {
        const t = this.graph.initializers.get(cur)!;
        if (t.data.length !== dim || t.shape[t.shape.length - 1] !== dim) this.fail(`the class token "${cur}" does not hold ${dim} channels on its last axis`);
        return { param: cur, nodes: nodes.reverse() };
      }
      const p = this.producerOf.get(cur);
      if (!p || !['Expand', 'Tile', 'Reshape', 'Unsqueeze', 'Identity', 'Cast'].includes(p.opType)) break;
      nodes.push(p);
      cur = p.inputs[0];
    }
    return this.fail(`the operand "${v}" that ${describe(at)} concatenates with the tokens does not come from a class-token parameter`);
  }

  // ---------------------------------------------------------------- blocks

  private readBlock(x: string, dim: number, index: number): VitBlock | undefined {
    let input = x;
    let junction: Linear | undefined;
    const first = this.next(x);
    if (first.length === 1 && first[0].opType === 'MatMul') {
      const j = this.linearStartingAt(first[0], x);
      if (j && j.inChannels === dim && j.outChannels === dim && !j.bias) {
        junction = j;
        input = j.output;
      }
    }
    const readers = this.next(input);
    const norm1 = this.readNorm(input);
    const add1 = readers.find((n) => n.opType === 'Add' && !norm1?.nodes.includes(n));
    if (!norm1 || !add1) {
      if (junction) this.fail(`the stream junction ${describe(junction.node)} is not followed by a block`);
      return undefined;
    }
    const attn = this.readAttention(norm1.output, input, add1);
    const mid = add1.outputs[0];
    const norm2 = this.readNorm(mid);
    if (!norm2) this.fail(`no LayerNorm reads the attention residual "${mid}" (${describe(add1)})`);
    const add2 = this.next(mid).find((n) => n.opType === 'Add' && !norm2.nodes.includes(n));
    if (!add2) this.fail(`no residual Add after the MLP of the block starting at "${input}"`);
    const fc1Node = this.next(norm2.output);
    const fc1 = fc1Node.length === 1 ? this.linearStartingAt(fc1Node[0], norm2.output) : undefined;
    if (!fc1) this.fail(`the second LayerNorm ("${norm2.output}") is not read by exactly one Linear (the MLP's first layer)`);
    const { fc2, hiddenValues } = this.readMlpTail(fc1);
    if (fc2.outChannels !== dim) this.fail(`${describe(fc2.node)} writes ${fc2.outChannels} channels, the stream has ${dim}`);
    if (!add2.inputs.includes(fc2.output)) this.fail(`${describe(add2)} does not add the MLP output "${fc2.output}" to the stream`);
    const name = commonModulePrefix([norm1.module, fc2.module]) || `block${index}`;
    return { name, junction, input, norm1, attn, add1, norm2, fc1, fc2, hiddenValues, add2, output: add2.outputs[0] };
  }

  /** The nodes after fc1 up to the next Linear, which must be a channel-wise activation (GELU and friends). */
  private readMlpTail(fc1: Linear): { fc2: Linear; hiddenValues: string[] } {
    const hiddenValues = [fc1.output];
    const seen = new Set<string>([fc1.output]);
    const nodes: Node[] = [];
    let fc2: Linear | undefined;
    for (let i = 0; i < hiddenValues.length; i++) {
      const v = hiddenValues[i];
      for (const r of this.next(v)) {
        const lin = this.linearStartingAt(r, v);
        if (lin) {
          if (fc2 && fc2.node !== lin.node) this.fail(`the MLP hidden layer "${fc1.output}" is read by two Linear layers`);
          fc2 = lin;
          continue;
        }
        if (!ACTIVATION_OPS.has(r.opType)) this.fail(`${describe(r)} in the MLP after ${describe(fc1.node)} is not a channel-wise activation`);
        if (!nodes.includes(r)) nodes.push(r);
        const out = r.outputs[0];
        if (!seen.has(out)) {
          seen.add(out);
          hiddenValues.push(out);
        }
      }
    }
    for (const r of nodes) {
      if (r.inputs.some((i) => i && this.features.has(i) && !seen.has(i))) {
        this.fail(`${describe(r)} in the MLP after ${describe(fc1.node)} mixes in another activation`);
      }
    }
    if (!fc2) this.fail(`no second Linear after the MLP's first layer ${describe(fc1.node)}`);
    if (fc2.inChannels !== fc1.outChannels) this.fail(`the MLP layers ${describe(fc1.node)} and ${describe(fc2.node)} disagree on the hidden width`);
    const fc2Input = fc2.node.inputs[0];
    return { fc2, hiddenValues: [...hiddenValues.filter((v) => v !== fc2Input), fc2Input] };
  }

  // ---------------------------------------------------------------- attention

  private cores?: (Core | string)[];

  /** The attention whose Q, K and V projections read `y` (the first LayerNorm's output) and whose output joins the stream at `add`. */
  private readAttention(y: string, stream: string, add: Node): Attention {
    this.cores ??= this.graph.nodes.filter((n) => n.opType === 'Softmax').map((s) => this.readCore(s));
    const reasons: string[] = [];
    for (const core of this.cores) {
      if (typeof core === 'string') {
        reasons.push(core);
        continue;
      }
      const reads = [core.q, core.k, core.v].map((p) => this.projectionInputChain(p.linear, y));
      if (reads.some((r) => r === undefined)) continue;
      return this.checkAttention(core, stream, add);
    }
    return this.fail(`no attention reads the LayerNorm output "${y}"${reasons.length ? ` (${reasons.join('; ')})` : ''}`);
  }

  /** Softmax → the scores MatMul before it and the mixing MatMul after it, and the projections of Q, K and V. */
  private readCore(softmax: Node): Core | string {
    const rank = this.cs.shape(softmax.outputs[0])?.length;
    if (rank === undefined) return `the shape at ${describe(softmax)} is unknown`;
    const axis = norm(intAttr(softmax, 'axis', this.opset() < 13 ? 1 : -1), rank);
    if (axis !== rank - 1) return `${describe(softmax)} is not over the last (key) axis`;
    let v = softmax.inputs[0];
    let scores: Node | undefined;
    for (let guard = 0; guard < 6; guard++) {
      const p = this.producerOf.get(v);
      if (!p) break;
      if (p.opType === 'MatMul' && p.inputs.every((i) => this.features.has(i))) {
        scores = p;
        break;
      }
      const data = p.inputs.filter((i) => this.features.has(i));
      if (data.length !== 1 || !['Mul', 'Div', 'Add', 'Sub', 'Cast', 'Identity', 'Where'].includes(p.opType)) break;
      v = data[0];
    }
    if (!scores) return `no product of two activations (Q·Kᵀ) before ${describe(softmax)}`;
    let w = softmax.outputs[0];
    let mix: Node | undefined;
    for (let guard = 0; guard < 4; guard++) {
      const next = this.next(w);
      if (next.length !== 1) break;
      if (next[0].opType === 'MatMul' && next[0].inputs[0] === w && this.features.has(next[0].inputs[1])) {
        mix = next[0];
        break;
      }
      if (!['Dropout', 'Identity', 'Cast'].includes(next[0].opType)) break;
      w = next[0].outputs[0];
    }
    if (!mix) return `the attention weights of ${describe(softmax)} do not multiply values (no A·V MatMul)`;
    const q = this.backToLinear(scores.inputs[0]);
    const k = this.backToLinear(scores.inputs[1]);
    const vv = this.backToLinear(mix.inputs[1]);
    if (!q || !k || !vv) return `the ${!q ? 'queries' : !k ? 'keys' : 'values'} of ${describe(scores)} do not come from a Linear layer through reshapes`;
    return { softmax, q, k, v: vv, scores, mix };
  }

  private checkAttention(core: Core, stream: string, add: Node): Attention {
    const where = describe(core.scores);
    const trace = (p: { linear: Linear; chain: Step[] }) => {
      const shape = this.shapeOf(p.linear.output);
      const ids = applyChain(p.chain, channelIds(shape, shape.length - 1), this.cs);
      if (!ids) this.fail(`cannot follow the channels of ${describe(p.linear.node)} into the heads of ${where}`);
      return ids;
    };
    const qIds = trace(core.q);
    const kIds = trace(core.k);
    const vIds = trace(core.v);
    const r = qIds.shape.length;
    const lead = (ids: Ids) => ids.shape.slice(0, -2).join(',');
    if (r < 3 || kIds.shape.length !== r || vIds.shape.length !== r || lead(qIds) !== lead(kIds) || lead(qIds) !== lead(vIds)) {
      this.fail(`the queries, keys and values of ${where} do not share their batch/head axes`);
    }
    const q = headBases(qIds, r - 1, r - 2);
    const k = headBases(kIds, r - 2, r - 1);
    const v = headBases(vIds, r - 1, r - 2);
    if (!q || !k || !v) this.fail(`${where} does not contract whole heads: a head's channels must be contiguous in its projection`);
    const qd = qIds.shape[r - 1];
    const vd = vIds.shape[r - 1];
    if (kIds.shape[r - 2] !== qd) this.fail(`queries and keys of ${where} have different head sizes`);
    const hq = headIndices(q, qd);
    const hk = headIndices(k, qd);
    const hv = headIndices(v, vd);
    if (!hq || !hk || !hv) this.fail(`the heads of ${where} do not tile their projections`);
    if (hq.index.some((h, i) => h !== hk.index[i] || h !== hv.index[i])) {
      this.fail(`${where} pairs query head, key head and value head differently`);
    }
    const heads = hq.count;
    if (hk.count !== heads || hv.count !== heads) this.fail(`queries, keys and values of ${where} have different head counts`);
    const fits = (p: Projection, channels: number) => p.offset + channels <= p.linear.outChannels;
    const qp = { linear: core.q.linear, offset: hq.offset };
    const kp = { linear: core.k.linear, offset: hk.offset };
    const vp = { linear: core.v.linear, offset: hv.offset };
    if (!fits(qp, heads * qd) || !fits(kp, heads * qd) || !fits(vp, heads * vd)) this.fail(`the heads of ${where} overrun their projections`);

    // Heads back to tokens: head h's channel i must reach input channel h·d + i of the output projection.
    const { linear: out, chain: outChain } = this.forwardToLinear(core.mix.outputs[0], where);
    const mixShape = this.shapeOf(core.mix.outputs[0]);
    const mixIds: Ids = { shape: mixShape, data: new Array<number>(sizeOf(mixShape)) };
    const perLead = mixShape[r - 2] * vd;
    for (let e = 0; e < mixIds.data.length; e++) mixIds.data[e] = hv.index[Math.floor(e / perLead)] * vd + (e % vd);
    const outIds = applyChain(outChain, mixIds, this.cs);
    if (!outIds || out.inChannels !== heads * vd || !isIdentityOn(outIds, outIds.shape.length - 1)) {
      this.fail(`the heads of ${where} do not reach ${describe(out.node)} in order (head h, channel i → input h·d + i)`);
    }
    const back = this.forwardLayoutTo(out.output, stream, add);
    if (!back) this.fail(`the attention output ${describe(out.node)} does not reach the residual ${describe(add)} with its channels last`);
    const module = commonModulePrefix([core.q.linear.module, out.module]) || out.module;
    const outInput = out.node.inputs[0];
    return {
      module,
      q: qp,
      k: kp,
      v: vp,
      heads,
      qkHeadDim: qd,
      vHeadDim: vd,
      out,
      softmax: core.softmax,
      outInput,
      outInputValues: [outInput],
      output: back.output,
      outputValues: [...out.values, ...back.values],
    };
  }

  /** Layout steps from `y` to the projection's input, or undefined when the projection does not read `y`. */
  private projectionInputChain(linear: Linear, y: string): Step[] | undefined {
    const chain: Step[] = [];
    let v = linear.node.inputs[0];
    for (let guard = 0; guard < 6; guard++) {
      if (v === y) break;
      const p = this.producerOf.get(v);
      if (!p || !LAYOUT_OPS_IN.has(p.opType) || p.inputs[0] === '') return undefined;
      chain.unshift({ node: p, output: v });
      v = p.inputs[0];
    }
    if (v !== y) return undefined;
    const ids = applyChain(chain, channelIds(this.shapeOf(y), this.shapeOf(y).length - 1), this.cs);
    if (!ids || !isIdentityOn(ids, ids.shape.length - 1)) this.fail(`${describe(linear.node)} does not read the LayerNorm output channel by channel`);
    return chain;
  }

  /** Walks back from `v` through layout steps to the output of a Linear layer. */
  private backToLinear(v: string): { linear: Linear; chain: Step[] } | undefined {
    const chain: Step[] = [];
    for (let guard = 0; guard < 10; guard++) {
      const linear = this.linearEndingAt(v);
      if (linear) return { linear, chain: chain.reverse() };
      const p = this.producerOf.get(v);
      if (!p) return undefined;
      const data = p.inputs.find((i) => i && this.features.has(i));
      if (!data || !isLayoutStep(p, data, this.cs)) return undefined;
      chain.push({ node: p, output: v });
      v = data;
    }
    return undefined;
  }

  /** Walks forward from `v` through single-reader layout steps to a Linear layer reading it. */
  private forwardToLinear(v: string, where: string): { linear: Linear; chain: Step[] } {
    const chain: Step[] = [];
    for (let guard = 0; guard < 8; guard++) {
      const next = this.next(v);
      if (next.length !== 1) break;
      const lin = this.linearStartingAt(next[0], v);
      if (lin) return { linear: lin, chain };
      if (!isLayoutStep(next[0], v, this.cs)) break;
      chain.push({ node: next[0], output: next[0].outputs[0] });
      v = next[0].outputs[0];
    }
    return this.fail(`the output of ${where}'s heads does not reach an output projection through reshapes`);
  }

  /** Layout steps from `v` to an input of `add` (the residual), checking channels stay on the last axis. */
  private forwardLayoutTo(v: string, stream: string, add: Node): { output: string; values: string[] } | undefined {
    const chain: Step[] = [];
    const start = v;
    for (let guard = 0; guard < 6; guard++) {
      if (add.inputs.includes(v) && add.inputs.includes(stream)) {
        const shape = this.shapeOf(start);
        const ids = applyChain(chain, channelIds(shape, shape.length - 1), this.cs);
        if (!ids || !isIdentityOn(ids, ids.shape.length - 1)) return undefined;
        return { output: v, values: chain.map((s) => s.output) };
      }
      const next = this.next(v);
      if (next.length !== 1 || !isLayoutStep(next[0], v, this.cs)) return undefined;
      chain.push({ node: next[0], output: next[0].outputs[0] });
      v = next[0].outputs[0];
    }
    return undefined;
  }

  // ---------------------------------------------------------------- norms, pooling, head

  private readNorm(x: string): Norm | undefined {
    const readers = this.next(x);
    const rank = this.cs.shape(x)?.length;
    if (rank === undefined) return undefined;
    const op = readers.find((n) => n.opType === 'LayerNormalization');
    if (op) {
      if (norm(intAttr(op, 'axis', -1), rank) !== rank - 1) this.fail(`${describe(op)} does not normalise over the channel (last) axis alone`);
      const scale = this.parameter(op.inputs[1], `the scale of ${describe(op)}`);
      const bias = op.inputs[2] ? this.parameter(op.inputs[2], `the bias of ${describe(op)}`) : undefined;
      return { nodes: [op], input: x, output: op.outputs[0], scale, bias, values: [op.outputs[0]], module: moduleName(this.graph, op) };
    }
    const mean = readers.find((n) => n.opType === 'ReduceMean' && this.reducesLast(n, rank));
    const sub = readers.find((n) => n.opType === 'Sub' && mean && n.inputs[0] === x && n.inputs[1] === mean.outputs[0]);
    if (!mean || !sub) return undefined;
    const centered = sub.outputs[0];
    const div = this.next(centered).find((n) => n.opType === 'Div' && n.inputs[0] === centered);
    const pow = this.next(centered).find((n) => n.opType === 'Pow' || n.opType === 'Mul');
    if (!div || !pow) this.fail(`${describe(sub)} looks like the start of a LayerNorm but no Div by the standard deviation follows`);
    const nodes: Node[] = [mean, sub];
    // The variance branch: Pow → ReduceMean → Add(eps) → Sqrt, ending in the Div's divisor.
    let v = div.inputs[1];
    for (let guard = 0; guard < 6 && v !== centered; guard++) {
      const p = this.producerOf.get(v);
      if (!p) break;
      nodes.push(p);
      v = p.inputs.find((i) => i && this.features.has(i)) ?? '';
    }
    if (v !== centered) this.fail(`the divisor of ${describe(div)} is not computed from "${centered}" (not a LayerNorm)`);
    nodes.push(div);
    const values = [centered, div.outputs[0]];
    let out = div.outputs[0];
    const affine = (opType: string) => {
      const next = this.next(out);
      const n = next.length === 1 && next[0].opType === opType ? next[0] : undefined;
      const p = n?.inputs.find((i) => i !== out);
      if (!n || !p || this.features.has(p)) return undefined;
      this.parameter(p, `the ${opType === 'Mul' ? 'scale' : 'bias'} of the LayerNorm ending at ${describe(n)}`);
      if (!this.isParamOfSize(p, this.shapeOf(x)[rank - 1], false)) return undefined;
      nodes.push(n);
      out = n.outputs[0];
      values.push(out);
      return p;
    };
    const scale = affine('Mul');
    const bias = affine('Add');
    const module = scale?.endsWith('.weight') ? scale.slice(0, -'.weight'.length) : moduleName(this.graph, nodes[nodes.length - 1]);
    return { nodes: nodes.sort((a, b) => this.order(a) - this.order(b)), input: x, output: out, scale, bias, values, module };
  }

  private readPool(x: string): VitLayout['pool'] {
    const next = this.next(x);
    if (next.length !== 1) this.fail(`the final LayerNorm output "${x}" is read by ${next.length} nodes, expected the pooling alone`);
    const n = next[0];
    const rank = this.shapeOf(x).length;
    if (n.opType === 'Gather' && norm(intAttr(n, 'axis', 0), rank) === 1 && this.cs.scalar(n.inputs[1]) === 0) {
      return { kind: 'cls', nodes: [n], output: n.outputs[0] };
    }
    if (n.opType === 'ReduceMean' && this.reduces(n, rank, [1])) {
      const nodes = [n];
      let out = n.outputs[0];
      const after = this.next(out);
      if (after.length === 1 && ['Squeeze', 'Flatten', 'Reshape'].includes(after[0].opType)) {
        nodes.push(after[0]);
        out = after[0].outputs[0];
      }
      return { kind: 'mean', nodes, output: out };
    }
    if (n.opType === 'Slice') {
      const spec = this.cs.sliceSpec(n, this.shapeOf(x));
      if (spec && spec[1].start === 0 && spec[1].count === 1 && spec.every((s, a) => a === 1 || s.count === this.shapeOf(x)[a])) {
        const after = this.next(n.outputs[0]);
        if (after.length === 1 && ['Squeeze', 'Flatten', 'Reshape'].includes(after[0].opType)) {
          return { kind: 'cls', nodes: [n, after[0]], output: after[0].outputs[0] };
        }
      }
    }
    return this.fail(`${describe(n)} after the final LayerNorm is neither the class token (x[:, 0]) nor the mean over tokens`);
  }

  private readHead(x: string): Linear {
    const next = this.next(x);
    const head = next.length === 1 ? this.linearStartingAt(next[0], x) : undefined;
    if (!head) this.fail(`the pooled features "${x}" are not read by one Linear head`);
    const outputs = new Set(this.graph.outputs.map((o) => o.name));
    let v = head.output;
    for (let guard = 0; guard < 4 && !outputs.has(v); guard++) {
      const n = this.next(v);
      if (n.length !== 1 || !['Identity', 'Dropout', 'Cast'].includes(n[0].opType)) break;
      v = n[0].outputs[0];
    }
    if (!outputs.has(v)) this.fail(`the head ${describe(head.node)} does not write a graph output`);
    return head;
  }

  // ---------------------------------------------------------------- layers

  /** The Linear that `node` starts when it reads `x` with a parameter weight: MatMul (+ bias Add) or Gemm. */
  private linearStartingAt(node: Node, x: string): Linear | undefined {
    if (node.inputs[0] !== x) return undefined;
    const w = this.graph.initializers.get(node.inputs[1]);
    if (!w || w.shape.length !== 2) return undefined;
    const module = moduleName(this.graph, node);
    if (node.opType === 'Gemm') {
      if (intAttr(node, 'transA', 0) !== 0) return undefined;
      const transB = intAttr(node, 'transB', 0) === 1;
      const bias = node.inputs[2] && this.graph.initializers.has(node.inputs[2]) ? node.inputs[2] : undefined;
      const [inAxis, outAxis] = transB ? [1, 0] : [0, 1];
      return {
        node,
        weight: node.inputs[1],
        inAxis,
        outAxis,
        inChannels: w.shape[inAxis],
        outChannels: w.shape[outAxis],
        bias,
        output: node.outputs[0],
        values: [node.outputs[0]],
        module,
      };
    }
    if (node.opType !== 'MatMul') return undefined;
    const out = node.outputs[0];
    const base: Linear = {
      node,
      weight: node.inputs[1],
      inAxis: 0,
      outAxis: 1,
      inChannels: w.shape[0],
      outChannels: w.shape[1],
      output: out,
      values: [out],
      module,
    };
    const next = this.next(out);
    if (next.length === 1 && next[0].opType === 'Add') {
      const b = next[0].inputs.find((i) => i !== out);
      if (b && !this.features.has(b) && this.producerOf.get(b)?.opType === 'Identity') this.parameter(b, `the bias of ${describe(node)}`);
      if (b && this.isParamOfSize(b, w.shape[1], false)) {
        return { ...base, bias: b, biasNode: next[0], output: next[0].outputs[0], values: [out, next[0].outputs[0]] };
      }
    }
    return base;
  }

  /** The Linear whose output (after its bias) is `v`. */
  private linearEndingAt(v: string): Linear | undefined {
    const p = this.producerOf.get(v);
    if (!p) return undefined;
    if (p.opType === 'Gemm' || p.opType === 'MatMul') {
      const lin = this.linearStartingAt(p, p.inputs[0]);
      return lin && lin.output === v ? lin : undefined;
    }
    if (p.opType === 'Add') {
      const mm = p.inputs.map((i) => this.producerOf.get(i)).find((n) => n?.opType === 'MatMul');
      const lin = mm && this.linearStartingAt(mm, mm.inputs[0]);
      return lin && lin.output === v ? lin : undefined;
    }
    return undefined;
  }

  // ---------------------------------------------------------------- helpers

  /** Nodes reading `v`, except shape-only readers. */
  private next(v: string): Node[] {
    return (this.readers.get(v) ?? []).filter((n) => !SHAPE_READERS.has(n.opType));
  }

  private skipPassThrough(v: string, values: string[]): string {
    for (let guard = 0; guard < 4; guard++) {
      const next = this.next(v);
      if (next.length !== 1 || !['Dropout', 'Identity'].includes(next[0].opType)) return v;
      v = next[0].outputs[0];
      values.push(v);
    }
    return v;
  }

  private markFeatures(input: string): void {
    this.features.add(input);
    for (const n of this.graph.nodes) {
      if (SHAPE_READERS.has(n.opType)) continue;
      if (n.inputs.some((i) => i && this.features.has(i))) for (const o of n.outputs) if (o) this.features.add(o);
    }
  }

  /** `v` when it is an initializer; otherwise a failure that explains an exporter's parameter alias. */
  private parameter(v: string, what: string): string {
    if (this.graph.initializers.has(v)) return v;
    const p = this.producerOf.get(v);
    if (p && p.opType === 'Identity' && this.graph.initializers.has(p.inputs[0])) {
      this.fail(
        `${what} ("${v}") is an alias of the parameter "${p.inputs[0]}" (${describe(p)}): the exporter merged parameters with equal values, ` +
          'which cannot be merged separately; export a model whose parameters differ (trained, or re-initialised with distinct values)',
      );
    }
    return this.fail(`${what} ("${v}") is not a parameter`);
  }

  private isParamOfSize(v: string, channels: number, tokens: boolean): boolean {
    const t = this.graph.initializers.get(v);
    if (!t || t.shape.length === 0 || t.shape[t.shape.length - 1] !== channels) return false;
    return tokens ? t.data.length > channels : t.data.length === channels;
  }

  private reducesLast(n: Node, rank: number): boolean {
    return this.reduces(n, rank, [rank - 1]);
  }

  private reduces(n: Node, rank: number, axes: number[]): boolean {
    const got = intsAttr(n, 'axes') ?? (n.inputs[1] ? this.cs.values(n.inputs[1]) : undefined);
    return got !== undefined && got.length === axes.length && got.every((a) => axes.includes(norm(a, rank)));
  }

  private shapeOf(v: string): number[] {
    const s = this.cs.shape(v);
    if (!s) this.fail(`the shape of "${v}" is unknown (operator not understood by the ViT reader)`);
    return s;
  }

  private rank(v: string): number {
    return this.shapeOf(v).length;
  }

  private opset(): number {
    return this.graph.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 13;
  }

  private readonly orderCache = new Map<string, number>();

  private order(n: Node): number {
    if (this.orderCache.size === 0) this.graph.nodes.forEach((m, i) => this.orderCache.set(m.name, i));
    return this.orderCache.get(n.name) ?? -1;
  }

  private fail(reason: string): never {
    return this.decline(reason);
  }
}

/** Operators allowed between the first LayerNorm and a projection (nn.MultiheadAttention transposes to sequence-first). */
const LAYOUT_OPS_IN = new Set(['Transpose', 'Reshape', 'Identity', 'Dropout', 'Cast']);

/** Channel-wise activations between the MLP's layers (GELU exact or tanh, written out or as one op). */
const ACTIVATION_OPS = new Set([
  'Gelu',
  'Relu',
  'Sigmoid',
  'Tanh',
  'Erf',
  'Mul',
  'Add',
  'Div',
  'Pow',
  'Sub',
  'Identity',
  'Dropout',
  'Cast',
  'HardSwish',
  'Elu',
  'LeakyRelu',
]);

function describe(node: Node): string {
  return `node ${node.name} (${node.opType})`;
}

function norm(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** The axis along which ids count 0, 1, 2, … identically everywhere (a channel axis), if any. */
function channelAxisOf(ids: Ids): number | undefined {
  for (let a = ids.shape.length - 1; a >= 0; a--) if (isIdentityOn(ids, a)) return a;
  return undefined;
}

/**
 * For ids laid out [...lead, A, B] with the head's channel index on `dimAxis` and tokens on
 * `tokenAxis` (the last two axes): per lead index, the channel of the head's first feature,
 * provided every token holds base + i at position i. Undefined otherwise.
 */
function headBases(ids: Ids, dimAxis: number, tokenAxis: number): number[] | undefined {
  const r = ids.shape.length;
  const d = ids.shape[dimAxis];
  const t = ids.shape[tokenAxis];
  const sDim = dimAxis === r - 1 ? 1 : t;
  const sTok = tokenAxis === r - 1 ? 1 : d;
  const per = d * t;
  const bases: number[] = [];
  for (let l = 0; l * per < ids.data.length; l++) {
    const base = ids.data[l * per];
    for (let tok = 0; tok < t; tok++) {
      for (let i = 0; i < d; i++) if (ids.data[l * per + tok * sTok + i * sDim] !== base + i) return undefined;
    }
    bases.push(base);
  }
  return bases;
}

/** Head index per lead position, the head count and the offset of head 0, when bases tile [offset, offset + count·d). */
function headIndices(bases: number[], d: number): { index: number[]; count: number; offset: number } | undefined {
  const offset = Math.min(...bases);
  const index = bases.map((b) => (b - offset) / d);
  if (index.some((h) => !Number.isInteger(h))) return undefined;
  const distinct = new Set(index);
  const count = distinct.size;
  for (let h = 0; h < count; h++) if (!distinct.has(h)) return undefined;
  return { index, count, offset };
}
