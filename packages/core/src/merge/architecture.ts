import { NotFoundError } from '../errors.js';
import type { Graph } from '../graph/graph.js';
import { Registry } from '../registry.js';
import type { MergeGraph } from './merge-graph.js';
import type { RefitPlan } from './refit.js';

/** Whether a graph is an instance of an architecture; when not, why (one line naming the node). */
export type Recognition =
  | { match: true /** e.g. `resnet20`, `resnet50-bottleneck` */; variant: string /** one line for `zipit inspect` */; summary: string }
  | { match: false; reason: string };

/** A seeded reference model of the family, for tests and examples. */
export interface ReferenceModel {
  /** e.g. `resnet20-w2`. */
  name: string;
  /** The graph input the model reads (batch dimension symbolic). */
  input: { name: string; shape: (number | string)[] };
  build(opts: { seed: number; classes?: number; foldedBatchNorm?: boolean }): Graph;
}

/**
 * An architecture plugin: recognises its family in a Graph and declares the merge graph with
 * the family's names (independently of the automatic derivation, which the conformance suite
 * checks it against). Plugins export a plain object and register it separately.
 */
export interface Architecture {
  readonly name: string;
  readonly description: string;
  recognise(graph: Graph): Recognition;
  /**
   * Optional function-preserving rewrite into the form whose merge graph exposes more stop
   * points (e.g. an identity layer on a residual stream at each block boundary, so that partial
   * zipping can unmerge it there). Callers apply it to every model before statistics and
   * zipping; `mergeGraph` accepts both the original and the prepared graph.
   */
  prepare?(graph: Graph): Graph;
  /** The declared merge graph; throws UnsupportedError (naming the node) when the graph is not recognised. */
  mergeGraph(graph: Graph): MergeGraph;
  /**
   * Optional: the linear layers a least-squares refit after zipping may solve, in graph order,
   * the per-model layers holding the unmerge after a partial stop, and the head (see `RefitPlan`;
   * @zipit/pipeline's `refitLayers` runs it). Architectures without it are refused a refit.
   */
  refitLayers?(graph: Graph): RefitPlan;
  /** Reference models the conformance suite builds (several widths/depths). */
  readonly references: readonly ReferenceModel[];
}

export type ArchitectureRegistry = Registry<Architecture>;

export function createArchitectureRegistry(): ArchitectureRegistry {
  return new Registry<Architecture>('architecture');
}

/** What asking every registered architecture about a graph found: the first that recognised it, and why the ones before it declined. */
export interface ArchitectureSurvey {
  found: { arch: Architecture; variant: string; summary: string } | null;
  /** Architectures asked before the recognising one (all of them when none did), each with its reason. */
  declined: { architecture: string; reason: string }[];
}

/** Asks the registered architectures in order until one recognises the graph; collects why the others declined. */
export function surveyArchitectures(registry: ArchitectureRegistry, graph: Graph): ArchitectureSurvey {
  const declined: ArchitectureSurvey['declined'] = [];
  for (const arch of registry.list()) {
    const r = arch.recognise(graph);
    if (r.match) return { found: { arch, variant: r.variant, summary: r.summary }, declined };
    declined.push({ architecture: arch.name, reason: r.reason });
  }
  return { found: null, declined };
}

/**
 * The first registered architecture that recognises the graph. When none does, a NotFoundError
 * lists why each declined ("resnet: no residual Add …; vgg: …").
 */
export function detectArchitecture(registry: ArchitectureRegistry, graph: Graph, file?: string): { arch: Architecture; variant: string; summary: string } {
  const { found, declined } = surveyArchitectures(registry, graph);
  if (found) return found;
  throw new NotFoundError('no registered architecture recognises the model', {
    file,
    hint: declined.length
      ? `${declined.map((d) => `${d.architecture}: ${d.reason}`).join('; ')}; the merge graph can still be derived automatically`
      : 'no architecture plugin is registered',
  });
}
