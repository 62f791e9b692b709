/**
 * The architecture plugins that ship with zipit, in the order they are asked to recognise a
 * model (kept here for code that imports it from `@zipit/cli`; the registry lives in
 * `@zipit/presets`).
 */
export { builtinArchitectures } from '@zipit/presets';
