#!/usr/bin/env node
/**
 * `pnpm zipit …` from the repository: builds @zipit/cli and the packages it depends on (turbo;
 * cached, so a build that is up to date costs only turbo's hashing), then runs the built
 * executable, packages/cli/dist/main.js, in this process with the same arguments. The build's
 * output is shown (on stderr) only when it fails, so standard output is zipit's alone. A fresh
 * clone has no dist/: the first run builds it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const turbo = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'turbo.cmd' : 'turbo');
const main = join(root, 'packages', 'cli', 'dist', 'main.js');
if (!existsSync(main)) process.stderr.write('zipit: first run on this checkout: building the packages (a few minutes; later runs only check)\n');
const build = spawnSync(turbo, ['run', 'build', '--filter=@zipit/cli...', '--output-logs=errors-only'], {
  cwd: root,
  encoding: 'utf8',
  env: { TURBO_TELEMETRY_DISABLED: '1', ...process.env },
});
if (build.status !== 0) {
  process.stderr.write(`${build.stdout ?? ''}${build.stderr ?? ''}`);
  process.stderr.write(
    `zipit: building @zipit/cli failed (${build.error ? build.error.message : `turbo exited ${build.status}`}); see above, or run \`pnpm build\`\n`,
  );
  process.exit(3);
}
await import(pathToFileURL(main).href);
