export { EXIT, type Command, type CommandIO } from './command.js';
export { builtinArchitectures } from './architectures.js';
export { runZipit, type CliStreams } from './cli.js';
export { parseArgs, parseNumberOption, parseNumberList, parseThreadsOption, maxThreads, RANGES, UsageError, type NumberRange } from './options.js';
export { checkPaths, writeOutputs, readInput, specFiles, type PathUse } from './files.js';
export { loadForMerge, loadModels, type LoadedModel, type MergeInputs } from './load.js';
