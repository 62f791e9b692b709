import * as tf from '@tensorflow/tfjs';
import { conv2dBackpropFilter, type Conv2DBackpropFilterAttrs } from './conv2d-backprop-filter.js';
import { conv2dBackpropInput, type Conv2DBackpropInputAttrs } from './conv2d-backprop-input.js';

const registered = new Set<string>();

/**
 * Registers the convolution gradient kernels training needs on a backend (default `wasm`):
 * `Conv2DBackpropFilter`, which the wasm backend lacks, and a faster `Conv2DBackpropInput`
 * replacing its own. Idempotent.
 */
export function registerTrainingKernels(backendName = 'wasm'): void {
  if (registered.has(backendName)) return;
  registered.add(backendName);
  if (tf.getKernel(tf.Conv2DBackpropFilter, backendName)) tf.unregisterKernel(tf.Conv2DBackpropFilter, backendName);
  tf.registerKernel({
    kernelName: tf.Conv2DBackpropFilter,
    backendName,
    kernelFunc: ({ inputs, attrs }) =>
      withTensors([inputs.x!, inputs.dy!], ([x, dy]) => conv2dBackpropFilter(x, dy, attrs as unknown as Conv2DBackpropFilterAttrs)),
  });
  if (tf.getKernel(tf.Conv2DBackpropInput, backendName)) tf.unregisterKernel(tf.Conv2DBackpropInput, backendName);
  tf.registerKernel({
    kernelName: tf.Conv2DBackpropInput,
    backendName,
    kernelFunc: ({ inputs, attrs }) =>
      withTensors([inputs.dy!, inputs.filter!], ([dy, filter]) => conv2dBackpropInput(dy, filter, attrs as unknown as Conv2DBackpropInputAttrs)),
  });
}

/**
 * Kernels usually receive the op's tensors; bare TensorInfos are wrapped (sharing their data)
 * for the duration of the call.
 */
function withTensors<R>(infos: tf.TensorInfo[], f: (ts: tf.Tensor4D[]) => R): R {
  const ts = infos.map((info) => (info instanceof tf.Tensor ? info : tf.engine().makeTensorFromTensorInfo(info)) as tf.Tensor4D);
  try {
    return f(ts);
  } finally {
    ts.forEach((t, i) => {
      if (t !== infos[i]) t.dispose();
    });
  }
}
