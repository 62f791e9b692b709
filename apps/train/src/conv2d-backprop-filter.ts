import * as tf from '@tensorflow/tfjs';

/**
 * The filter gradient of a 2-D convolution (`Conv2DBackpropFilter`), which tfjs' wasm backend
 * does not implement, built from kernels it does have. With x [N, H, W, Cin] (NHWC) and the
 * output gradient dy [N, Ho, Wo, Cout]:
 *
 *   dW[i, j, c, o] = Σ_{n, p, q} x[n, p·s + i − top, q·s + j − left, c] · dy[n, p, q, o]
 *
 * is itself a convolution: the input x padded and transposed to [Cin, H', W', N] (the batch
 * becomes the reduced channel axis) convolved with dy transposed to a [Ho, Wo, N, Cout] filter,
 * stride 1 and dilation s (the forward stride); its [Cin, ≥kh, ≥kw, Cout] output, cropped to the
 * kernel and transposed, is dW. Only NHWC and dilation 1 in the forward pass (what tfjs' conv2d
 * gradient supports anyway).
 */
export function conv2dBackpropFilter(x: tf.Tensor4D, dy: tf.Tensor4D, attrs: Conv2DBackpropFilterAttrs): tf.Tensor4D {
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropFilter (wasm, custom): only NHWC is supported, got ${dataFormat}`);
  }
  const info = tf.backend_util.computeConv2DInfo(x.shape, filterShape, strides, 1, pad, dimRoundingMode);
  const { top, bottom, left, right } = info.padInfo;
  const [kh, kw] = filterShape;
  return tf.tidy(() => {
    const padded =
      top || bottom || left || right
        ? tf.pad(x, [
            [0, 0],
            [top, bottom],
            [left, right],
            [0, 0],
          ])
        : x;
    const input = tf.transpose(padded, [3, 1, 2, 0]);
    const filter = tf.transpose(dy, [1, 2, 0, 3]);
    const full = tf.conv2d(input, filter, 1, 'valid', 'NHWC', [info.strideHeight, info.strideWidth]);
    const cropped = full.shape[1] === kh && full.shape[2] === kw ? full : tf.slice(full, [0, 0, 0, 0], [-1, kh, kw, -1]);
    return tf.transpose(cropped, [1, 2, 0, 3]);
  });
}

export interface Conv2DBackpropFilterAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}
