import { registerResnet } from '@zipit/arch-resnet';
import { registerVgg } from '@zipit/arch-vgg';
import { registerVit } from '@zipit/arch-vit';
import { createArchitectureRegistry, type ArchitectureRegistry } from '@zipit/core';

/**
 * A registry holding the architecture plugins that ship with zipit, in the order they are
 * asked to recognise a model. The conformance suite in `test/conformance` runs against these
 * (ViTs run the same invariants, with head-aware permutations, in arch-vit's own suite).
 */
export function builtinArchitectures(): ArchitectureRegistry {
  const registry = createArchitectureRegistry();
  registerResnet(registry);
  registerVgg(registry);
  registerVit(registry);
  return registry;
}
