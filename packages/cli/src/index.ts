export { EXIT, type Command, type CommandIO } from "./command.js";
