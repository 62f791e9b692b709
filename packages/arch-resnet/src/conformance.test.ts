import { describeArchitecture } from '@zipit/conformance';
import { resnetArch } from './resnet-arch.js';

/**
 * The shared architecture suite (see @zipit/conformance) on the CIFAR ResNet-20 references,
 * BatchNorm kept and folded. The torchvision layouts run in conformance-torchvision.test.ts, a
 * second file so that vitest runs the two halves in parallel.
 */
describeArchitecture(resnetArch, { references: resnetArch.references.filter((r) => r.name.startsWith('resnet20')) });
