import { consumers, producers, type Graph, type Node, type ValueInfo } from '../graph/graph.js';

/** What an architecture plugin's parser returns: the family's layout, or why the graph is not one (one line naming a node). */
export type LayoutResult<L> = { ok: true; layout: L } | { ok: false; reason: string };

/** Thrown by {@link LayoutReader.decline}; `read` turns it into `{ ok: false, reason }`. Never escapes `read`. */
export class LayoutDeclined extends Error {
  override readonly name = 'LayoutDeclined';
}

/** Operators that read a value's shape only: not on the data path. */
const SHAPE_READERS = new Set(['Shape', 'Size']);

/**
 * Base for the structural parsers of architecture plugins. Subclasses implement `parse`, walk
 * the graph with the helpers here and call `decline("… naming the node")` wherever the graph is
 * not of their family; `read()` returns the layout or that reason, which `detectArchitecture`
 * lists for every plugin that declined. Parsing is by data flow, not by names.
 */
export abstract class LayoutReader<L> {
  /** Nodes reading each value (every reader, shape readers included). */
  protected readonly readers: Map<string, Node[]>;
  /** The node writing each value. */
  protected readonly producerOf: Map<string, Node>;

  constructor(protected readonly graph: Graph) {
    this.readers = consumers(graph);
    this.producerOf = producers(graph);
  }

  /** The layout, or a `decline(reason)`. */
  protected abstract parse(): L;

  read(): LayoutResult<L> {
    try {
      return { ok: true, layout: this.parse() };
    } catch (e) {
      if (e instanceof LayoutDeclined) return { ok: false, reason: e.message };
      throw e;
    }
  }

  /** Stops parsing: the graph is not of this family, because `reason` (name the node: {@link describeNode}). */
  protected decline(reason: string): never {
    throw new LayoutDeclined(reason);
  }

  /** Graph inputs that are not initializers (the data the model reads). */
  protected dataInputs(): ValueInfo[] {
    return this.graph.inputs.filter((i) => !this.graph.initializers.has(i.name));
  }

  /** Nodes reading `value` as data (Shape/Size only read its shape). */
  protected dataReaders(value: string): Node[] {
    return (this.readers.get(value) ?? []).filter((n) => !SHAPE_READERS.has(n.opType));
  }

  /** The single data reader of `value`, of type `opType`; else `decline(reason)`. */
  protected sole(value: string, opType: string, reason: string): Node {
    const next = this.dataReaders(value);
    if (next.length !== 1 || next[0].opType !== opType) this.decline(reason);
    return next[0];
  }
}

/** `name (OpType)`: how a node is named in a declined reason or an error. */
export function describeNode(node: Node): string {
  return `${node.name || node.outputs[0]} (${node.opType})`;
}
