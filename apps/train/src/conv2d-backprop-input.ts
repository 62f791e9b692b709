import * as tf from '@tensorflow/tfjs';

/**
 * The input gradient of a 2-D convolution (`Conv2DBackpropInput`) as a forward convolution.
 * tfjs' wasm backend has this kernel, but a direct loop that took 1.2 s of a 2.3 s ResNet-20
 * training step (batch 128, width 8); as one XNNPACK convolution it takes about as long as the
 * forward pass. With x [N, H, W, Cin], filter W [kh, kw, Cin, Cout], stride s, padding
 * (top, left) and dy [N, Ho, Wo, Cout]:
 *
 *   dx[n, i, j, c] = Σ_{u, v, o} dyₛ[n, i + u − (kh−1−top), j + v − (kw−1−left), o] · W[kh−1−u, kw−1−v, c, o]
 *
 * where dyₛ is dy with s−1 zeros inserted between rows and columns: a stride-1 convolution of
 * the dilated, padded dy with the spatially flipped filter, its in/out axes swapped. NHWC only.
 */
export function conv2dBackpropInput(dy: tf.Tensor4D, filter: tf.Tensor4D, attrs: Conv2DBackpropInputAttrs): tf.Tensor4D {
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropInput (wasm, custom): only NHWC is supported, got ${dataFormat}`);
  }
  const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape, strides, 1, pad, dimRoundingMode);
  const { strideHeight: sh, strideWidth: sw } = info;
  const [kh, kw] = filter.shape;
  const [n, outH, outW, outC] = dy.shape;
  const [, inH, inW] = inputShape;
  return tf.tidy(() => {
    let spread: tf.Tensor4D = dy;
    if (sh > 1 || sw > 1) {
      const grid = tf.pad(tf.reshape(dy, [n, outH, 1, outW, 1, outC]), [
        [0, 0],
        [0, 0],
        [0, sh - 1],
        [0, 0],
        [0, sw - 1],
        [0, 0],
      ]);
      spread = tf.slice(tf.reshape(grid, [n, outH * sh, outW * sw, outC]) as tf.Tensor4D, [0, 0, 0, 0], [n, (outH - 1) * sh + 1, (outW - 1) * sw + 1, outC]);
    }
    const top = kh - 1 - info.padInfo.top;
    const left = kw - 1 - info.padInfo.left;
    const bottom = inH + kh - 1 - spread.shape[1] - top;
    const right = inW + kw - 1 - spread.shape[2] - left;
    const padded = padOrCrop(spread, top, bottom, left, right);
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]);
    return tf.conv2d(padded, flipped as tf.Tensor4D, 1, 'valid');
  });
}

export interface Conv2DBackpropInputAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

/** Zero-pads (positive amounts) or crops (negative amounts) the spatial axes of an NHWC tensor. */
function padOrCrop(x: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  const grown = tf.pad(x, [
    [0, 0],
    [Math.max(0, top), Math.max(0, bottom)],
    [Math.max(0, left), Math.max(0, right)],
    [0, 0],
  ]);
  const begin = [0, Math.max(0, -top), Math.max(0, -left), 0];
  const size = [-1, grown.shape[1] - begin[1] - Math.max(0, -bottom), grown.shape[2] - begin[2] - Math.max(0, -right), -1];
  return begin[1] || begin[2] || size[1] !== grown.shape[1] || size[2] !== grown.shape[2] ? tf.slice(grown, begin, size) : grown;
}
