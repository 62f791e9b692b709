import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { NotFoundError } from '@zipit/core';
import type { ReportAssets } from '../report-html/render.js';

const require = createRequire(import.meta.url);

/**
 * Path of a package's minified UMD build. The packages' export maps do not expose their
 * `build/*.min.js` files, so the path is taken beside the resolved entry (all three keep it in `build/`).
 */
export function umdBundlePath(pkg: 'vega' | 'vega-lite' | 'vega-embed'): string {
  const file = { vega: 'vega.min.js', 'vega-lite': 'vega-lite.min.js', 'vega-embed': 'vega-embed.min.js' }[pkg];
  return join(dirname(require.resolve(pkg)), file);
}

let cached: Promise<ReportAssets> | undefined;

/** The chart libraries inlined into visual HTML reports, read once from node_modules. */
export function loadReportAssets(): Promise<ReportAssets> {
  cached ??= (async () => {
    const read = async (pkg: 'vega' | 'vega-lite' | 'vega-embed') => {
      const path = umdBundlePath(pkg);
      try {
        return await readFile(path, 'utf8');
      } catch (e) {
        throw new NotFoundError(`the ${pkg} browser bundle is missing (${path}): ${(e as Error).message}`, { hint: 'reinstall dependencies: pnpm install' });
      }
    };
    const [vega, vegaLite, vegaEmbed] = await Promise.all([read('vega'), read('vega-lite'), read('vega-embed')]);
    return { vega, vegaLite, vegaEmbed };
  })();
  cached.catch(() => (cached = undefined));
  return cached;
}
