export { EXIT, type Command, type CommandIO } from "./command.js";
export { builtinArchitectures } from "./architectures.js";
