import { InvalidArgumentError } from '../errors.js';
import type { Node } from '../graph/graph.js';
import type { OperatorDef } from './operator.js';

/** Registry key of an operator: its type in the default domain ('' or `ai.onnx`), `domain::type` elsewhere. */
export function operatorKey(domain: string | undefined, opType: string): string {
  return !domain || domain === 'ai.onnx' ? opType : `${domain}::${opType}`;
}

/**
 * The operators zipit understands, one `OperatorDef` per (domain, type). Shape inference
 * (`inferShapes`), merge-graph derivation (`deriveMergeGraph`) and the pipeline's `mergeModels`
 * read it; `builtinOperators()` gives a fresh one holding the built-in families, to which a
 * plugin registers its own operators (`register` refuses a taken key: say `replace` to change a
 * built-in on purpose).
 */
export class OperatorRegistry {
  private readonly defs = new Map<string, OperatorDef>();

  constructor(defs: Iterable<OperatorDef> = []) {
    for (const d of defs) this.register(d);
  }

  /** Adds an operator; throws when one of that domain and type is registered already. */
  register(def: OperatorDef): this {
    const key = operatorKey(def.domain, def.opType);
    if (this.defs.has(key)) {
      throw new InvalidArgumentError(`operator ${key} is already registered`, {
        hint: 'use OperatorRegistry.replace to change a registered operator on purpose',
      });
    }
    this.defs.set(key, def);
    return this;
  }

  /** Adds or replaces an operator (e.g. a stricter rule for a built-in one). */
  replace(def: OperatorDef): this {
    this.defs.set(operatorKey(def.domain, def.opType), def);
    return this;
  }

  /** The operator of a node, or undefined when none is registered. */
  of(node: Pick<Node, 'domain' | 'opType'>): OperatorDef | undefined {
    return this.defs.get(operatorKey(node.domain, node.opType));
  }

  /** The operator under a key (`Relu`, `com.example::Swish`). */
  get(key: string): OperatorDef | undefined {
    return this.defs.get(key);
  }

  has(key: string): boolean {
    return this.defs.has(key);
  }

  list(): OperatorDef[] {
    return [...this.defs.values()];
  }

  /** Keys of the operators with a role, e.g. every `weight` operator. */
  keysWith(role: OperatorDef['role']): string[] {
    return [...this.defs].filter(([, d]) => d.role === role).map(([k]) => k);
  }

  /** A copy holding these operators and `defs` too (throws on duplicates like `register`). */
  with(...defs: OperatorDef[]): OperatorRegistry {
    const copy = new OperatorRegistry(this.defs.values());
    for (const d of defs) copy.register(d);
    return copy;
  }
}
