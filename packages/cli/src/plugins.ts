import { deferredExecutor } from '@zipit/core';
import { builtinPlugins } from '@zipit/presets';

/** The registries every command uses: the plugins that ship with zipit (`@zipit/presets`). */
export const plugins = builtinPlugins();

/** The executor every command runs its passes on: the best available one, resolved on first use (so `--help` loads no runtime). */
export const executor = deferredExecutor(plugins.executors);
