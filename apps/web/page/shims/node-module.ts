/**
 * Browser stand-in for `node:module`. `@zipit/data`'s preprocessing sits beside the readers of
 * the npm dataset packages, whose module creates a `require` when it loads; the page never reads
 * those packages (it has its built-in subset), so resolving through it is an error.
 */
export function createRequire(_from: string): { resolve(id: string): string } {
  return {
    resolve(id: string): string {
      throw new Error(`${id}: the npm dataset packages are not available in the browser; the page merges on its built-in subset or your .npy files`);
    },
  };
}
