import { describeArchitecture } from '@zipit/conformance';
import { vggArch } from './vgg-arch.js';

/** The shared architecture suite (see @zipit/conformance) on every reference model, BatchNorm kept and folded. */
describeArchitecture(vggArch);
