import { registerResnet } from '@zipit/arch-resnet';
import { registerVgg } from '@zipit/arch-vgg';
import { registerVit, vitRotateMatcher } from '@zipit/arch-vit';
import {
  builtinOperators,
  createArchitectureRegistry,
  createExecutorRegistry,
  createFormatRegistry,
  defaultMatcherRegistry,
  type ArchitectureRegistry,
  type ExecutorRegistry,
  type FormatRegistry,
  type MatcherRegistry,
  type OperatorRegistry,
} from '@zipit/core';
import { onnxFileFormat } from '@zipit/io-onnx/node';
import { safetensorsFormat } from '@zipit/io-safetensors';
import { ortExecutor } from '@zipit/runtime-ort';

/** One registry per plugin kind, as a program wires them. */
export interface Plugins {
  architectures: ArchitectureRegistry;
  matchers: MatcherRegistry;
  formats: FormatRegistry;
  executors: ExecutorRegistry;
  /** The operators merge-graph derivation follows (core's built-in families); register custom operators here. */
  operators: OperatorRegistry;
}

/**
 * The architecture plugins that ship with zipit, in the order they are asked to recognise a
 * model (the first that recognises it wins).
 */
export function builtinArchitectures(): ArchitectureRegistry {
  const registry = createArchitectureRegistry();
  registerResnet(registry);
  registerVgg(registry);
  registerVit(registry);
  return registry;
}

/** ONNX (files on disk, external data beside them) and safetensors (weights onto a structure). */
export function builtinFormats(): FormatRegistry {
  return createFormatRegistry([onnxFileFormat, safetensorsFormat]);
}

/** onnxruntime-node. */
export function builtinExecutors(): ExecutorRegistry {
  return createExecutorRegistry([ortExecutor]);
}

/** Core's matchers plus the architecture plugins' own (arch-vit's `vit-rotate`). */
export function builtinMatcherRegistry(): MatcherRegistry {
  const registry = defaultMatcherRegistry();
  registry.register(vitRotateMatcher);
  return registry;
}

/** Fresh registries holding every built-in plugin; add your own with `register`. */
export function builtinPlugins(): Plugins {
  return {
    architectures: builtinArchitectures(),
    matchers: builtinMatcherRegistry(),
    formats: builtinFormats(),
    executors: builtinExecutors(),
    operators: builtinOperators(),
  };
}
