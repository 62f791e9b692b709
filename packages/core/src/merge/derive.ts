import { ShapeError } from '../errors.js';
import { opsetVersion, type Graph, type GraphBody, type Node } from '../graph/graph.js';
import { inferShapes, type ShapeTable } from '../graph/infer-shapes.js';
import { hasWeights, type Barrier, type MergeGraph, type ParamRef, type Tie, type ValueAxis } from './merge-graph.js';
import { commonModulePrefix, moduleName, scopeModule } from './naming.js';
import { assembleMergeGraph, dedupeRefs, type HeadDraft, type PointDraft } from '../plugin/assemble-merge-graph.js';
import { defaultOperators } from '../ops/builtin.js';
import { operatorKey, type OperatorRegistry } from '../ops/registry.js';
import { Decline, type RuleContext } from '../ops/rule.js';

/**
 * An operator that blocks a space never fails the derivation: it becomes a barrier listed (with
 * its reason and what would let merging pass) in `MergeGraph.barriers`; the spaces it touches are
 * not merge points and zipping stops before it (the points after it are not stop points). So
 * every stop point that `zipit inspect` lists also merges.
 */
export interface DeriveOptions {
  /**
   * The operators to follow (rules, shape inference, roles); default: the built-in ones. Add a
   * custom operator with `builtinOperators().register({ opType, domain, role, rule, infer })`.
   */
  operators?: OperatorRegistry;
}

/** Why a space cannot be merged. */
type Pin = 'input' | 'output' | 'head' | 'opaque' | 'barrier';

/** Where a feature without a channel axis comes from. */
type Origin = 'input' | 'opaque' | 'derived';

interface FeatureState {
  /** An element id, or a composite id (< 0) when the channel axis holds several spaces side by side (a channel Concat). */
  el?: number;
  axis?: number;
  origin: Origin;
}

interface BarrierRecord extends Barrier {
  els: number[];
}

/**
 * Derives the merge graph of a model from its graph IR: runs the per-operator propagation rules
 * over the nodes in order, unions (value, channel axis) elements into spaces, finds task heads
 * (weight layers that reach a graph output through no other weight layer), and turns every space
 * that is neither a graph input/output, a head output, nor blocked by a barrier into a merge point.
 */
export function deriveMergeGraph(graph: Graph | GraphBody, opts: DeriveOptions = {}): MergeGraph {
  return new Derivation(graph, opts).run();
}

class Derivation {
  private readonly shapes: ShapeTable;
  private readonly opset: number;
  private readonly operators: OperatorRegistry;
  private readonly nodeIndex = new Map<string, number>();
  private readonly producerOf = new Map<string, Node>();
  private readonly features = new Map<string, FeatureState>();
  // Union-find over elements = (value, axis).
  private readonly elValue: string[] = [];
  private readonly elAxis: number[] = [];
  /** Where an element's channels sit on its value's axis: channel c at offset + c·repeat … + repeat − 1. */
  private readonly elOffset: number[] = [];
  private readonly elRepeat: number[] = [];
  /** Whether an element is one of several spaces on its value's axis (its refs then always carry an offset). */
  private readonly elPart: boolean[] = [];
  /** Channel count of an element (null when unknown). */
  private readonly elSize: (number | null)[] = [];
  private readonly parent: number[] = [];
  /** Composite ids −1, −2, …: the elements laid side by side on one channel axis, in order. */
  private readonly composites: number[][] = [];
  private readonly pins: { el: number; pin: Pin }[] = [];
  private readonly producers: { ref: ParamRef; el: number }[] = [];
  private readonly consumers: { ref: ParamRef; el: number }[] = [];
  private readonly ties: { tie: Tie; el: number }[] = [];
  private readonly barriers: BarrierRecord[] = [];

  constructor(
    private readonly graph: Graph | GraphBody,
    opts: DeriveOptions,
  ) {
    this.operators = opts.operators ?? defaultOperators;
    this.shapes = inferShapes(graph, this.operators);
    this.opset = 'opsetImports' in graph ? (opsetVersion(graph) ?? 13) : 13;
    graph.nodes.forEach((n, i) => {
      this.nodeIndex.set(n.name, i);
      for (const o of n.outputs) if (o) this.producerOf.set(o, n);
    });
  }

  run(): MergeGraph {
    for (const input of this.graph.inputs) {
      if (!this.graph.initializers.has(input.name)) this.features.set(input.name, { origin: 'input' });
    }
    for (const node of this.graph.nodes) this.visit(node);
    for (const out of this.graph.outputs) {
      const el = this.features.get(out.name)?.el;
      if (el !== undefined) this.pins.push({ el, pin: 'output' });
    }
    const headNodes = this.findHeads();
    for (const node of headNodes) {
      const el = this.features.get(node.outputs[0])?.el;
      if (el !== undefined) this.pins.push({ el, pin: 'head' });
    }
    return this.assemble(headNodes);
  }

  // ---------------------------------------------------------------- propagation

  private visit(node: Node): void {
    const featureIn = node.inputs.some((i) => i !== '' && this.features.has(i));
    const op = this.operators.of(node);
    if (!featureIn || op?.role === 'shape') return;
    const rule = op?.rule;
    const snapshot = {
      els: this.elValue.length,
      pins: this.pins.length,
      producers: this.producers.length,
      consumers: this.consumers.length,
      ties: this.ties.length,
      barriers: this.barriers.length,
      composites: this.composites.length,
    };
    const overlay = new Map<string, FeatureState>();
    const unions: [number, number][] = [];
    try {
      if (!rule) {
        throw new Decline(
          `no propagation rule for operator ${operatorKey(node.domain, node.opType)}`,
          'register the operator with a rule (OperatorRegistry, passed as `operators`), or declare the merge graph with an architecture plugin',
        );
      }
      rule(this.context(node, overlay, unions));
    } catch (e) {
      if (!(e instanceof Decline)) throw e;
      this.elValue.length = snapshot.els;
      this.elAxis.length = snapshot.els;
      this.elOffset.length = snapshot.els;
      this.elRepeat.length = snapshot.els;
      this.elPart.length = snapshot.els;
      this.elSize.length = snapshot.els;
      this.parent.length = snapshot.els;
      this.composites.length = snapshot.composites;
      this.pins.length = snapshot.pins;
      this.producers.length = snapshot.producers;
      this.consumers.length = snapshot.consumers;
      this.ties.length = snapshot.ties;
      this.barriers.length = snapshot.barriers;
      this.barrier(node, e.reason, e.hint);
      return;
    }
    for (const [v, s] of overlay) this.features.set(v, s);
    for (const [a, b] of unions) this.union(a, b);
    for (const o of node.outputs) if (o && !this.features.has(o)) this.features.set(o, { origin: 'opaque' });
  }

  private barrier(node: Node, reason: string, hint: string): void {
    const els: number[] = [];
    for (const i of node.inputs) {
      const id = i ? this.features.get(i)?.el : undefined;
      if (id === undefined) continue;
      for (const el of this.segments(id)) {
        if (els.includes(el)) continue;
        els.push(el);
        this.pins.push({ el, pin: 'barrier' });
      }
    }
    this.barriers.push({ node: node.name, opType: node.opType, reason, hint, els });
    for (const o of node.outputs) if (o) this.features.set(o, { origin: 'opaque' });
  }

  private context(node: Node, overlay: Map<string, FeatureState>, unions: [number, number][]): RuleContext {
    const state = (v: string): FeatureState | undefined => overlay.get(v) ?? this.features.get(v);
    const sizeOf = (value: string, axis: number): number | null => {
      const d = this.shapes.shapes.get(value)?.[axis];
      return typeof d === 'number' ? d : null;
    };
    const newEl = (value: string, axis: number, layout?: { offset: number; repeat: number; size: number | null; part: boolean }): number => {
      const el = this.elValue.length;
      this.elValue.push(value);
      this.elAxis.push(axis);
      this.elOffset.push(layout?.offset ?? 0);
      this.elRepeat.push(layout?.repeat ?? 1);
      this.elPart.push(layout?.part ?? false);
      this.elSize.push(layout ? layout.size : sizeOf(value, axis));
      this.parent.push(el);
      return el;
    };
    const layoutOf = (el: number) => ({ offset: this.elOffset[el], repeat: this.elRepeat[el], size: this.elSize[el], part: this.elPart[el] });
    const composite = (els: number[]): number => {
      this.composites.push(els);
      return -this.composites.length;
    };
    /** Pairs up the segments of two ids that must be one space; declines when they are laid out differently. */
    const pairs = (a: number, b: number): [number, number][] => {
      const sa = this.segments(a);
      const sb = this.segments(b);
      if (sa.length === 1 && sb.length === 1) return [[sa[0], sb[0]]];
      const sizes = (s: number[]) => s.map((e) => this.elSize[e]).join(',');
      if (sa.length !== sb.length || sizes(sa) !== sizes(sb)) {
        return decline(
          `it joins channels made of ${sa.length} concatenated space(s) [${sizes(sa)}] with ${sb.length} [${sizes(sb)}]`,
          'a concatenation can only be added to one concatenated the same way',
        );
      }
      return sa.map((e, i) => [e, sb[i]]);
    };
    const decline = (reason: string, hint = ''): never => {
      throw new Decline(reason, hint);
    };
    const ref = (param: string, axis: number, el: number): ParamRef => ({
      param,
      axis,
      node: node.name,
      ...(this.elOffset[el] !== 0 || this.elPart[el] ? { offset: this.elOffset[el] } : {}),
      ...(this.elRepeat[el] !== 1 ? { repeat: this.elRepeat[el] } : {}),
    });
    const ctx: RuleContext = {
      node,
      opset: this.opset,
      shape: (v) => this.graph.initializers.get(v)?.shape.slice() ?? this.shapes.shapes.get(v) ?? null,
      rank: (v) => {
        const s = ctx.shape(v);
        if (!s) return decline(`the rank of "${v}" is unknown`, 'give the model static shapes (all but the batch dimension)');
        return s.length;
      },
      isFeature: (v) => v !== '' && state(v) !== undefined,
      param: (v) => this.graph.initializers.get(v),
      constant: (v) => this.shapes.constants.get(v),
      channelAxis: (v) => state(v)?.axis ?? null,
      elementOf: (v) => state(v)?.el,
      channel: (v, axis) => {
        const s = state(v);
        if (!s) return decline(`"${v}" is not an activation`);
        if (s.el !== undefined) {
          if (s.axis === axis) return s.el;
          return decline(`"${v}" carries its channels on axis ${s.axis}, but this node reads channels on axis ${axis}`);
        }
        const el = newEl(v, axis);
        this.pins.push({ el, pin: s.origin === 'input' ? 'input' : 'opaque' });
        overlay.set(v, { el, axis, origin: s.origin });
        return el;
      },
      fresh: (v, axis) => {
        const el = newEl(v, axis);
        overlay.set(v, { el, axis, origin: 'derived' });
        return el;
      },
      join: (v, axis, el) => {
        const els = this.segments(el).map((src) => {
          const e = newEl(v, axis, layoutOf(src));
          unions.push([e, src]);
          return e;
        });
        const id = els.length === 1 && el >= 0 ? els[0] : composite(els);
        overlay.set(v, { el: id, axis, origin: 'derived' });
        return id;
      },
      spread: (v, axis, el, inner) => {
        const els = this.segments(el).map((src) => {
          const l = layoutOf(src);
          const e = newEl(v, axis, { ...l, offset: l.offset * inner, repeat: l.repeat * inner });
          unions.push([e, src]);
          return e;
        });
        const id = els.length === 1 && el >= 0 ? els[0] : composite(els);
        overlay.set(v, { el: id, axis, origin: 'derived' });
        return id;
      },
      parts: (v) => {
        const s = state(v);
        if (s?.el === undefined) return decline(`"${v}" has no channel axis`);
        return this.segments(s.el).map((el) => {
          const size = this.elSize[el];
          if (size === null) return decline(`the channel count of "${v}" is unknown`, 'give the model static shapes (all but the batch dimension)');
          if (this.elRepeat[el] !== 1) return decline(`the channels of "${v}" are spread over a flattened axis`);
          return { el, size };
        });
      },
      compose: (v, axis, parts) => {
        let offset = 0;
        const els = parts.map((p) => {
          const e = newEl(v, axis, { offset, repeat: 1, size: p.size, part: parts.length > 1 });
          unions.push([e, p.el]);
          offset += p.size;
          return e;
        });
        const id = els.length === 1 ? els[0] : composite(els);
        overlay.set(v, { el: id, axis, origin: 'derived' });
        return id;
      },
      tie: (a, b, values) => {
        for (const [x, y] of pairs(a, b)) {
          this.ties.push({ tie: { node: node.name, values: [...values] }, el: x });
          unions.push([x, y]);
        }
      },
      unite: (a, b) => {
        for (const pair of pairs(a, b)) unions.push(pair);
      },
      produce: (param, axis, el) => {
        for (const e of this.segments(el)) this.producers.push({ ref: ref(param, axis, e), el: e });
      },
      consume: (param, axis, el) => {
        for (const e of this.segments(el)) this.consumers.push({ ref: ref(param, axis, e), el: e });
      },
      noChannel: (v) => {
        overlay.set(v, { origin: 'derived' });
      },
      passThrough: (v, from) => {
        const s = state(from);
        overlay.set(v, { origin: s && s.origin !== 'derived' ? s.origin : 'derived' });
      },
      mixing: (el, reason, hint) => {
        const els = this.segments(el);
        for (const e of els) this.pins.push({ el: e, pin: 'barrier' });
        this.barriers.push({ node: node.name, opType: node.opType, reason, hint, els });
      },
      decline,
    };
    return ctx;
  }

  /** The elements of an element or composite id, in channel order. */
  private segments(id: number): number[] {
    return id >= 0 ? [id] : this.composites[-id - 1];
  }

  private find(el: number): number {
    let r = el;
    while (this.parent[r] !== r) r = this.parent[r];
    while (this.parent[el] !== r) {
      const next = this.parent[el];
      this.parent[el] = r;
      el = next;
    }
    return r;
  }

  private union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return;
    // The older element stays the root, so roots follow graph order.
    if (ra < rb) this.parent[rb] = ra;
    else this.parent[ra] = rb;
  }

  // ---------------------------------------------------------------- heads

  /** A layer with a weight at input 1 (role `weight`: Conv, Gemm, MatMul, …). */
  private isWeightOp(node: Node): boolean {
    return this.operators.of(node)?.role === 'weight';
  }

  /** Weight layers from which some graph output is reachable without passing another weight layer. */
  private findHeads(): Node[] {
    const weightNodes = new Set(this.producers.map((p) => p.ref.node));
    const isWeight = (n: Node) => this.isWeightOp(n) && weightNodes.has(n.name);
    const heads = new Map<string, Node>();
    const seen = new Set<string>();
    const stack = this.graph.outputs.map((o) => o.name);
    while (stack.length > 0) {
      const v = stack.pop()!;
      if (seen.has(v)) continue;
      seen.add(v);
      const node = this.producerOf.get(v);
      if (!node) continue;
      if (isWeight(node)) {
        heads.set(node.name, node);
        continue;
      }
      for (const i of node.inputs) if (i && this.features.has(i)) stack.push(i);
    }
    return [...heads.values()].sort((a, b) => this.nodeIndex.get(a.name)! - this.nodeIndex.get(b.name)!);
  }

  /** Graph outputs reachable from `node`. */
  private outputsReachedFrom(node: Node): string[] {
    const outputs = new Set(this.graph.outputs.map((o) => o.name));
    const readers = new Map<string, Node[]>();
    for (const n of this.graph.nodes) for (const i of n.inputs) if (i) (readers.get(i) ?? readers.set(i, []).get(i)!).push(n);
    const reached: string[] = [];
    const seen = new Set<string>();
    const stack = [...node.outputs];
    while (stack.length > 0) {
      const v = stack.pop()!;
      if (!v || seen.has(v)) continue;
      seen.add(v);
      if (outputs.has(v)) reached.push(v);
      for (const r of readers.get(v) ?? []) stack.push(...r.outputs);
    }
    return this.graph.outputs.map((o) => o.name).filter((o) => reached.includes(o));
  }

  // ---------------------------------------------------------------- assembly

  private assemble(headNodes: Node[]): MergeGraph {
    const pinsOf = new Map<number, Set<Pin>>();
    for (const { el, pin } of this.pins) {
      const r = this.find(el);
      (pinsOf.get(r) ?? pinsOf.set(r, new Set()).get(r)!).add(pin);
    }
    const effective: Barrier[] = [];
    for (const b of this.barriers) {
      const blocks = b.els.some((el) => {
        const pins = pinsOf.get(this.find(el))!;
        return [...pins].every((p) => p === 'barrier');
      });
      if (!blocks) continue;
      effective.push({ node: b.node, opType: b.opType, reason: b.reason, hint: b.hint });
    }

    const roots: number[] = [];
    for (let el = 0; el < this.elValue.length; el++) {
      if (this.find(el) === el && !pinsOf.has(el)) roots.push(el);
    }
    const drafts = roots.map((r) => this.draftPoint(r)).filter((d): d is PointDraft => d !== null);
    const heads: HeadDraft[] = headNodes.map((node) => {
      const out = this.producers.find((p) => p.ref.node === node.name && this.isWeightOp(node) && p.ref.param === node.inputs[1]);
      const classes = out ? this.graph.initializers.get(out.ref.param)!.shape[out.ref.axis] : 0;
      return { name: moduleName(this.graph, node), node: node.name, outputs: this.outputsReachedFrom(node), classes };
    });

    // Input-side preprocessing (e.g. Sub(input, mean)) may be shared when it is the same in every model.
    const inputSide = (v: string) => {
      const st = this.features.get(v);
      if (!st) return true;
      if (st.el === undefined) return st.origin === 'input';
      return this.segments(st.el).some((el) => pinsOf.get(this.find(el))?.has('input') === true);
    };
    const mg = assembleMergeGraph(this.graph, drafts, heads, {
      order: 'depth',
      uniqueNames: true,
      shareable: (node) => !hasWeights(this.graph, node) || (!this.isWeightOp(node) && node.outputs.every((o) => !o || inputSide(o))),
    });
    return { ...mg, barriers: effective };
  }

  private draftPoint(root: number): PointDraft | null {
    const inSpace = (el: number | undefined) => el !== undefined && this.find(el) === root;
    const producers = dedupeRefs(this.producers.filter((p) => inSpace(p.el)).map((p) => p.ref));
    if (producers.length === 0) return null;
    const consumers = dedupeRefs(this.consumers.filter((c) => inSpace(c.el)).map((c) => c.ref));
    const values: ValueAxis[] = [];
    for (let el = 0; el < this.elValue.length; el++) {
      const id = this.features.get(this.elValue[el])?.el;
      if (this.find(el) === root && id !== undefined && this.segments(id).includes(el)) {
        values.push({
          value: this.elValue[el],
          axis: this.elAxis[el],
          ...(this.elOffset[el] !== 0 || this.elPart[el] ? { offset: this.elOffset[el] } : {}),
          ...(this.elRepeat[el] !== 1 ? { repeat: this.elRepeat[el] } : {}),
        });
      }
    }
    const first = producers[0];
    const span = (r: ParamRef) => this.graph.initializers.get(r.param)!.shape[r.axis];
    const whole = producers.find((r) => r.offset === undefined && r.repeat === undefined);
    let channels = whole ? span(whole) : null;
    for (let el = 0; channels === null && el < this.elValue.length; el++) if (this.find(el) === root) channels = this.elSize[el];
    if (channels === null) channels = span(first);
    for (const r of [...producers, ...consumers]) {
      const size = span(r);
      const needed = (r.offset ?? 0) + channels * (r.repeat ?? 1);
      if (r.offset === undefined && r.repeat === undefined ? size !== channels : size < needed) {
        throw new ShapeError(`parameter "${r.param}" has ${size} entries on axis ${r.axis}, but "${first.param}" gives the space ${channels} channels`, {
          node: r.node,
        });
      }
    }
    const order = (names: string[]) => [...new Set(names)].sort((a, b) => this.nodeIndex.get(a)! - this.nodeIndex.get(b)!);
    const producerNodes = order(producers.map((p) => p.node));
    const consumerNodes = order(consumers.map((c) => c.node));
    const ties = this.ties.filter((t) => inSpace(t.el)).map((t) => t.tie);
    const observe = this.observe(root, consumerNodes, values);
    return { name: this.pointName(producerNodes, consumerNodes, ties), channels, observe, values, producers, consumers, ties };
  }

  /**
   * The value a space is observed at: the input of its last reading layer, walked back through
   * pooling/flatten/padding to the output of the nonlinearity; the last value when nothing reads it.
   */
  private observe(root: number, consumerNodes: string[], values: ValueAxis[]): ValueAxis {
    const elOf = (v: string) => {
      const s = this.features.get(v);
      return s?.el === undefined ? undefined : this.segments(s.el).find((el) => this.find(el) === root);
    };
    const axisOf = (v: string) => {
      const el = elOf(v);
      return el === undefined ? undefined : this.elAxis[el];
    };
    const lastReader = consumerNodes.length ? this.graph.nodes[this.nodeIndex.get(consumerNodes[consumerNodes.length - 1])!] : undefined;
    let v = lastReader?.inputs.find((i) => i && axisOf(i) !== undefined) ?? values[values.length - 1].value;
    for (;;) {
      const p = this.producerOf.get(v);
      if (!p || !this.operators.of(p)?.observeThrough) break;
      const prev = p.inputs.find((i) => i && axisOf(i) !== undefined);
      if (!prev) break;
      v = prev;
    }
    const el = elOf(v)!;
    return { value: v, axis: this.elAxis[el], ...(this.elOffset[el] !== 0 || this.elPart[el] ? { offset: this.elOffset[el] } : {}) };
  }

  private pointName(producerNodes: string[], consumerNodes: string[], ties: Tie[]): string {
    const node = (name: string) => this.graph.nodes[this.nodeIndex.get(name)!];
    if (ties.length > 0) {
      const modules = ties.map((t) => scopeModule(t.node)).filter((m) => m !== '');
      let stage = commonModulePrefix(modules);
      if (!stage && consumerNodes.length) stage = moduleName(this.graph, node(consumerNodes[0]));
      if (!stage) stage = ties[0].node;
      return `${stage}:stream`;
    }
    if (consumerNodes.length > 0) return `${moduleName(this.graph, node(consumerNodes[0]))}:in`;
    return `${moduleName(this.graph, node(producerNodes[0]))}:out`;
  }
}
