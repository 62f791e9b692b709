import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's fixtures folder, located from this source file (the CLI runs from a checkout). */
export const REPO_FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'fixtures');
