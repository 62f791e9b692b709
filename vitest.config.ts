import { defineConfig } from 'vitest/config';

// Tests run on the TypeScript sources of every workspace package (the `@zipit/source` export
// condition), so `pnpm test` needs no build step.
export default defineConfig({
  resolve: { conditions: ['@zipit/source', 'node', 'import', 'default'] },
  ssr: { resolve: { conditions: ['@zipit/source', 'node', 'import', 'default'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'examples/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
