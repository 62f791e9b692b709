import type { Dim, Node } from '../graph/graph.js';
import type { ConstValue } from './shape-math.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Propagation rules: one function per operator (its `OperatorDef.rule`) that says, for one node, which
 * (value, channel axis) pairs share a feature space, which parameter axes write (produce) or read
 * (consume) which space, and where channels cannot be followed. The engine (`merge/derive.ts`) unions
 * the answers into spaces with a union-find.
 *
 * Spaces are referred to by "element" ids: one per (value, channel axis); `join` and `tie` union
 * them. A rule must check everything it needs *before* recording anything, and call `decline`
 * when it cannot follow channels through its node: the engine then treats the node as a barrier.
 */
export interface RuleContext {
  readonly node: Node;
  /** Default-domain opset of the model (attribute defaults changed across opsets). */
  readonly opset: number;
  /** Static shape of a value, or null when unknown. */
  shape(value: string): Dim[] | null;
  /** Rank of a value; declines when unknown. */
  rank(value: string): number;
  /** Whether a value depends on the graph inputs (an activation), as opposed to parameters/constants/shapes. */
  isFeature(value: string): boolean;
  /** The initializer behind a value, if it is one. */
  param(value: string): Tensor | undefined;
  /** A statically known small tensor (initializer, Constant node or shape arithmetic). */
  constant(value: string): ConstValue | undefined;
  /** Channel axis of a feature, or null when it has none (yet). */
  channelAxis(value: string): number | null;
  /**
   * The element of a feature on `axis`. A feature without a channel axis so far (a graph input,
   * the output of a barrier) gets one here, in a space that can never be merged. Declines when
   * the feature already carries its channels on another axis.
   */
  channel(value: string, axis: number): number;
  /** Element of a feature that has a channel axis; undefined otherwise. */
  elementOf(value: string): number | undefined;
  /** Starts a new space at `value`'s `axis` (a layer's output channels). */
  fresh(value: string, axis: number): number;
  /** Puts `value` (channels on `axis`) in the space of element `el`. */
  join(value: string, axis: number, el: number): number;
  /**
   * Puts `value`'s `axis` in the space of `el` with every channel repeated `inner` times in a row:
   * a channel-major flatten of [C, H, W] to [C·H·W] (inner = H·W). Layers reading it see M ⊗ I(inner).
   */
  spread(value: string, axis: number, el: number, inner: number): number;
  /**
   * The spaces laid side by side on a feature's channel axis, with their channel counts: one for
   * a plain value, one per input for a channel concatenation. Declines when a count is unknown.
   */
  parts(value: string): { el: number; size: number }[];
  /**
   * Makes `value`'s `axis` the concatenation of `parts` (the direct sum of their spaces): each
   * part keeps its own space, at its offset. Returns the (composite) element of the value.
   */
  compose(value: string, axis: number, parts: readonly { el: number; size: number }[]): number;
  /** Unites two spaces because the node adds them (a residual tie, recorded on the space). */
  tie(a: number, b: number, values: string[]): void;
  /** Unites two spaces without recording a residual tie (element-wise products, concatenation along tokens). */
  unite(a: number, b: number): void;
  /** `param`'s `axis` writes the space of `el`. */
  produce(param: string, axis: number, el: number): void;
  /** `param`'s `axis` reads the space of `el`. */
  consume(param: string, axis: number, el: number): void;
  /** A feature that depends on activations but carries no channel axis (a reduction over channels). */
  noChannel(value: string): void;
  /** Keeps the feature's provenance without a channel axis (element-wise op on an axis-less feature). */
  passThrough(value: string, from: string): void;
  /** The space of `el` may not be merged because this node mixes its channels. */
  mixing(el: number, reason: string, hint: string): void;
  /** Gives up on this node; its outputs become opaque features and its input spaces are pinned. */
  decline(reason: string, hint?: string): never;
}

export type Rule = (ctx: RuleContext) => void;

/** Thrown by `RuleContext.decline`; caught by the engine. */
export class Decline extends Error {
  constructor(
    readonly reason: string,
    readonly hint: string,
  ) {
    super(reason);
  }
}

/** Feature inputs of the node (non-empty names that depend on activations). */
export function featureInputs(ctx: RuleContext): string[] {
  return ctx.node.inputs.filter((i) => i !== '' && ctx.isFeature(i));
}

/** The single feature input at position `index`, declining when it is not a feature. */
export function featureAt(ctx: RuleContext, index: number, role: string): string {
  const v = ctx.node.inputs[index];
  if (!v || !ctx.isFeature(v)) ctx.decline(`its ${role} (input ${index}) is not an activation`);
  return v;
}

/**
 * The single-activation rule's operands: input 0 (an activation), output 0 and the input's
 * channel axis. An input that carries no channels is passed through to the output and null
 * returned, so the rule has nothing left to do.
 */
export function channelOperand(ctx: RuleContext): { x: string; y: string; c: number } | null {
  const x = featureAt(ctx, 0, 'input');
  const y = ctx.node.outputs[0];
  const c = ctx.channelAxis(x);
  if (c === null) {
    ctx.passThrough(y, x);
    return null;
  }
  return { x, y, c };
}

/** A parameter input at `index`, declining when it is computed rather than stored. */
export function paramAt(ctx: RuleContext, index: number, role: string): string {
  const v = ctx.node.inputs[index];
  if (!v || !ctx.param(v)) {
    ctx.decline(
      `its ${role} (input ${index}${v ? ` "${v}"` : ''}) is not an initializer`,
      'weights computed at run time cannot be merged; export the model with constant folding so weights are initializers',
    );
  }
  return v;
}

/** Normalises a possibly negative axis. */
export function axisIn(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}
