import { InvalidArgumentError, NotFoundError } from './errors.js';

/**
 * A named plugin registry (architectures, formats, matchers). Registration of a taken name
 * throws; a lookup miss lists what is registered. Core defines registries but never fills them:
 * plugins export plain objects and their packages register them.
 */
export class Registry<T extends { readonly name: string }> {
  private readonly items = new Map<string, T>();

  constructor(readonly kind: string) {}

  register(item: T): void {
    if (this.items.has(item.name)) {
      throw new InvalidArgumentError(`${this.kind} "${item.name}" is already registered`);
    }
    this.items.set(item.name, item);
  }

  /** Registers unless an item of that name is already present (for idempotent side-effect imports). */
  ensure(item: T): void {
    if (!this.items.has(item.name)) this.items.set(item.name, item);
  }

  has(name: string): boolean {
    return this.items.has(name);
  }

  get(name: string): T {
    const item = this.items.get(name);
    if (!item) {
      const known = [...this.items.keys()].join(', ') || 'none';
      throw new NotFoundError(`unknown ${this.kind} "${name}"`, { hint: `registered: ${known}` });
    }
    return item;
  }

  list(): T[] {
    return [...this.items.values()];
  }
}
