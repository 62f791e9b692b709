import { registerResnet } from '@zipit/arch-resnet';
import { registerVgg } from '@zipit/arch-vgg';
import { createArchitectureRegistry, type ArchitectureRegistry } from '@zipit/core';

/**
 * A registry holding the architecture plugins that ship with zipit, in the order they are
 * asked to recognise a model. The conformance suite in `test/conformance` runs against exactly
 * these, so a plugin added here is held to the same invariants.
 */
export function builtinArchitectures(): ArchitectureRegistry {
  const registry = createArchitectureRegistry();
  registerResnet(registry);
  registerVgg(registry);
  return registry;
}
