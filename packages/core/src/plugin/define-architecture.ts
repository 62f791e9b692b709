import { UnsupportedError } from '../errors.js';
import type { Graph } from '../graph/graph.js';
import type { Architecture, ReferenceModel } from '../merge/architecture.js';
import type { MergeGraph } from '../merge/merge-graph.js';
import type { RefitPlan } from '../merge/refit.js';
import type { LayoutResult } from './layout-reader.js';

/** What a plugin author writes; {@link defineArchitecture} turns it into an {@link Architecture}. */
export interface ArchitectureSpec<L> {
  readonly name: string;
  /** The family as errors name it (`ResNet`, `ViT`); default `name`. */
  readonly family?: string;
  readonly description: string;
  /** Parses the family's layout (e.g. `new MyReader(graph).read()`), or says why the graph is not one. */
  read(graph: Graph): LayoutResult<L>;
  /** The variant and the one line `zipit inspect` prints. */
  summarise(graph: Graph, layout: L): { variant: string; summary: string };
  /** The declared merge graph (typically built with `assembleMergeGraph`). */
  declare(graph: Graph, layout: L): MergeGraph;
  prepare?(graph: Graph): Graph;
  /** The layers a least-squares refit may solve (see `Architecture.refitLayers`). */
  refitLayers?(graph: Graph, layout: L): RefitPlan;
  readonly references: readonly ReferenceModel[];
  /** Hint of the UnsupportedError `mergeGraph` throws for a graph of another family (default: derive automatically). */
  readonly declinedHint?: string;
}

/** An architecture built by {@link defineArchitecture}: also hands out the parsed layout. */
export interface DefinedArchitecture<L> extends Architecture {
  /** The layout of `graph` (parsed once per graph object, then cached). */
  layout(graph: Graph): LayoutResult<L>;
}

/**
 * An architecture plugin from a parser, a summary and a declaration. The layout is parsed once
 * per graph object — `recognise` and then `mergeGraph` on the same graph share one parse (a
 * WeakMap keyed by the graph; graphs are treated as immutable, every rewrite returns a new one).
 */
export function defineArchitecture<L>(spec: ArchitectureSpec<L>): DefinedArchitecture<L> {
  const parsed = new WeakMap<Graph, LayoutResult<L>>();
  const layout = (graph: Graph): LayoutResult<L> => {
    let r = parsed.get(graph);
    if (!r) parsed.set(graph, (r = spec.read(graph)));
    return r;
  };
  const arch: DefinedArchitecture<L> = {
    name: spec.name,
    description: spec.description,
    references: spec.references,
    layout,
    recognise(graph) {
      const r = layout(graph);
      return r.ok ? { match: true, ...spec.summarise(graph, r.layout) } : { match: false, reason: r.reason };
    },
    mergeGraph(graph) {
      const r = layout(graph);
      if (!r.ok) {
        throw new UnsupportedError(`not a ${spec.family ?? spec.name}: ${r.reason}`, {
          hint: spec.declinedHint ?? 'derive the merge graph automatically instead',
        });
      }
      return spec.declare(graph, r.layout);
    },
  };
  if (spec.prepare) arch.prepare = spec.prepare.bind(spec);
  const refit = spec.refitLayers;
  if (refit) {
    arch.refitLayers = (graph) => {
      const r = layout(graph);
      if (!r.ok) throw new UnsupportedError(`not a ${spec.family ?? spec.name}: ${r.reason}`);
      return refit.call(spec, graph, r.layout);
    };
  }
  return arch;
}
