import { describeArchitecture } from '@zipit/conformance';
import { resnetArch } from './resnet-arch.js';

/** The shared architecture suite on the torchvision-layout references (ResNet-18, ResNet-50 Bottlenecks), BatchNorm kept and folded. */
describeArchitecture(resnetArch, { references: resnetArch.references.filter((r) => !r.name.startsWith('resnet20')) });
