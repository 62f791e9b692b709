import { InvalidArgumentError, resolveMatcherParams, type AnyMatcher, type MatcherParams, type MatcherRegistry } from '@zipit/core';
import { UsageError } from './command.js';

/**
 * `--param name=value` (repeatable) into a matcher's parameters: its defaults with the overrides. `aliases` are the
 * older spellings (`--alpha`, `--beta`), applied only when the matcher declares that parameter
 * (they have always been zipit's). Names and values are checked against the matcher's declared
 * parameters (`resolveMatcherParams`), so a typo is an error naming the matcher's parameters.
 */
export function parseMatcherParams(matcher: AnyMatcher, flags: readonly string[] | undefined, aliases: MatcherParams = {}): MatcherParams {
  const out: MatcherParams = {};
  for (const [name, value] of Object.entries(aliases)) if (name in matcher.defaults) out[name] = value;
  for (const [name, values] of parseParamFlags(flags)) {
    if (values.length !== 1) throw new UsageError(`--param ${name} takes one value here, got ${values.join(',')}`);
    out[name] = values[0];
  }
  return resolveMatcherParams(matcher, out);
}

/**
 * Sweep grids: `--param name=v1,v2` (repeatable) per parameter name. A name that no swept
 * method declares is an error; each method gets the grid of the names it declares (its
 * defaults elsewhere).
 */
export function paramGrid(matcher: AnyMatcher, lists: ReadonlyMap<string, readonly number[]>): MatcherParams[] {
  let grid: MatcherParams[] = [{ ...matcher.defaults }];
  for (const [name, values] of lists) {
    if (!(name in matcher.defaults)) continue;
    grid = grid.flatMap((g) => values.map((v) => ({ ...g, [name]: v })));
  }
  for (const g of grid) resolveMatcherParams(matcher, g);
  return grid;
}

/** Every `--param` name must belong to at least one of the methods. */
export function checkParamNames(lists: ReadonlyMap<string, readonly number[]>, methods: readonly string[], registry: MatcherRegistry): void {
  for (const name of lists.keys()) {
    if (methods.some((m) => name in registry.get(m).defaults)) continue;
    const known = methods.map((m) => `${m}: ${Object.keys(registry.get(m).defaults).join(', ') || 'none'}`).join('; ');
    throw new InvalidArgumentError(`no swept method has a parameter "${name}"`, { hint: `parameters — ${known}` });
  }
}

/** `name=v1,v2,…` flags into name → values; a malformed flag is a UsageError. */
export function parseParamFlags(flags: readonly string[] | undefined): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const flag of flags ?? []) {
    const eq = flag.indexOf('=');
    const name = eq > 0 ? flag.slice(0, eq).trim() : '';
    if (!name) throw new UsageError(`--param takes name=value (e.g. --param alpha=0.3), got "${flag}"`);
    const values = flag
      .slice(eq + 1)
      .split(',')
      .map((t) => t.trim());
    const nums = values.map(Number);
    if (values.some((t) => t === '') || nums.some((v) => !Number.isFinite(v)))
      throw new UsageError(`--param ${name}: "${flag.slice(eq + 1)}" is not a number (or a comma-separated list of numbers)`);
    out.set(name, [...(out.get(name) ?? []), ...nums]);
  }
  return out;
}

/** One help line per matcher: its parameters with their defaults. */
export function matcherParamsHelp(registry: MatcherRegistry): string {
  return registry
    .list()
    .map(
      (m) =>
        `                      ${m.name}: ${
          Object.entries(m.defaults)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ') || '(none)'
        }`,
    )
    .join('\n');
}
