import { InvalidArgumentError, UnsupportedError } from '../errors.js';
import type { GraphBody } from '../graph/graph.js';
import { matchMergeGraph } from '../merge/match-points.js';
import type { MergeGraph } from '../merge/merge-graph.js';
import { pointSignatures } from './feature-signatures.js';
import type { Matcher, MatcherParams, MatcherRegistry, MatchResult } from './matcher.js';

/** What a matcher parameter means and which values it takes (for `--param name=value` and help texts). */
export interface ParameterSpec {
  /** One line: what the parameter does, with its unit or range. */
  description: string;
  min?: number;
  max?: number;
  /** Only whole numbers. */
  integer?: boolean;
}

/** Everything a graph-level matcher may read. */
export interface GraphMatchInput {
  mergeGraph: MergeGraph;
  /** N, the number of models. */
  numModels: number;
  /** The N models (same structure as `mergeGraph`), for methods that read weights. */
  graphs: readonly GraphBody[];
  /** Point i's covariance [N·C, N·C] of the stacked features (model-major); computed on demand, may be cached by the caller. */
  covariance(point: number): Float32Array | Float64Array;
  /** Point i's feature means [N·C] (model-major), where the caller has them (see `MatchContext`). */
  means?(point: number): Float32Array | Float64Array;
  /** The matcher's parameters: its defaults overridden by what the user gave (see {@link resolveMatcherParams}). */
  params: MatcherParams;
  /** Match points 0 … upTo only; later entries of the result are `undefined`. */
  upTo: number;
  /** Align blocks (attention heads) across models before matching within them (see `matchMergeGraph`). */
  alignBlocks: boolean;
}

/**
 * A matching method that sees the whole merge graph at once: all points, every model's weights
 * and every point's statistics. Weight matching (Git Re-Basin), which aligns each point from
 * the weights around it and iterates over points, or dense methods coupling several points, are
 * written against this. A per-point {@link Matcher} adapts into it ({@link asGraphMatcher}).
 * Results follow `MatchResult`: per point `merge` [C, N·C] and `unmerge` [N·C, C].
 */
export interface GraphMatcher {
  readonly kind: 'graph';
  readonly name: string;
  /** One line for help texts. */
  readonly description: string;
  /** Parameter names with their defaults (every parameter the method reads). */
  readonly defaults: MatcherParams;
  readonly parameters?: Readonly<Record<string, ParameterSpec>>;
  /** One result per merge point (`undefined` after `upTo`). Points sharing a transform must get the same result. */
  matchGraph(input: GraphMatchInput): (MatchResult | undefined)[];
}

/** A per-point or a graph-level matcher: what a matcher registry holds. */
export type AnyMatcher = Matcher | GraphMatcher;

export function isGraphMatcher(m: AnyMatcher): m is GraphMatcher {
  return (m as GraphMatcher).kind === 'graph';
}

/**
 * The graph-level view of any matcher. A per-point matcher runs on every point through
 * `matchMergeGraph` (shared transforms matched once from pooled statistics, blocks kept whole).
 */
export function asGraphMatcher(m: AnyMatcher): GraphMatcher {
  if (isGraphMatcher(m)) return m;
  return {
    kind: 'graph',
    name: m.name,
    description: m.description,
    defaults: m.defaults,
    ...(m.parameters ? { parameters: m.parameters } : {}),
    matchGraph: (input) =>
      matchMergeGraph(input.mergeGraph, input.covariance, input.numModels, m, input.params, {
        upTo: input.upTo,
        alignBlocks: input.alignBlocks,
        ...(input.means ? { means: input.means } : {}),
        // What tells apart features the data cannot (feature-signatures.ts): the models' weights.
        ...(input.graphs.length === input.numModels ? { signatures: (i: number) => pointSignatures(input.graphs, input.mergeGraph.points[i]) } : {}),
      }),
  };
}

/**
 * A matcher's parameters: its defaults, overridden by `given`. A name the matcher does not
 * declare, a non-finite value, or one outside the declared range is an InvalidArgumentError
 * naming the matcher and what it accepts.
 */
export function resolveMatcherParams(m: AnyMatcher, given: MatcherParams = {}): MatcherParams {
  const out: MatcherParams = { ...m.defaults };
  const names = Object.keys(m.defaults);
  for (const [name, value] of Object.entries(given)) {
    if (!(name in m.defaults)) {
      throw new InvalidArgumentError(`matcher "${m.name}" has no parameter "${name}"`, {
        hint: names.length ? `its parameters: ${names.map((n) => `${n} (default ${m.defaults[n]})`).join(', ')}` : `"${m.name}" takes no parameters`,
      });
    }
    const spec = m.parameters?.[name];
    const range = spec && (spec.min !== undefined || spec.max !== undefined) ? `${spec.min ?? '−∞'} … ${spec.max ?? '∞'}` : undefined;
    if (
      !Number.isFinite(value) ||
      (spec?.integer && !Number.isInteger(value)) ||
      (spec?.min !== undefined && value < spec.min) ||
      (spec?.max !== undefined && value > spec.max)
    ) {
      throw new InvalidArgumentError(`matcher "${m.name}": parameter ${name} = ${value} is out of range`, {
        hint: `${name}: ${spec?.description ?? 'a finite number'}${range ? ` (${range}${spec?.integer ? ', whole numbers' : ''})` : ''}`,
      });
    }
    out[name] = value;
  }
  return out;
}

/** A registered matcher that works on one covariance at a time (`zipit match` on a statistics file); a graph-level one is an UnsupportedError. */
export function getPointMatcher(registry: MatcherRegistry, name: string): Matcher {
  const m = registry.get(name);
  if (isGraphMatcher(m)) {
    throw new UnsupportedError(`matcher "${name}" matches whole models, not one covariance`, { hint: 'use it through mergeModels or `zipit merge`' });
  }
  return m;
}
