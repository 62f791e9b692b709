import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerTrainingKernels } from './register-kernels.js';

/**
 * Switches tfjs to its wasm backend (SIMD, one thread in Node) with the missing
 * `Conv2DBackpropFilter` kernel registered (and a faster `Conv2DBackpropInput`).
 * `@tensorflow/tfjs-node` cannot be installed here;
 * the pure-JS `cpu` backend is an order of magnitude slower.
 */
export async function useWasmBackend(): Promise<void> {
  registerTrainingKernels('wasm');
  // Not tf.getBackend(): it would first initialise the default backend (and print tfjs' Node banner).
  if (tf.engine().backendName !== 'wasm' && !(await tf.setBackend('wasm'))) {
    throw new Error('tfjs: the wasm backend failed to initialise');
  }
  await tf.ready();
}
