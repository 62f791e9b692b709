import { ONNXRUNTIME_DTYPES, UnsupportedError, type DType, type Tensor } from '@zipit/core';
import type { Tensor as OrtTensor } from 'onnxruntime-node';

/** The onnxruntime module, loaded on first use so that importing this package stays cheap. */
export type Ort = typeof import('onnxruntime-node');

let ortModule: Promise<Ort> | undefined;

export function loadOrt(): Promise<Ort> {
  ortModule ??= import('onnxruntime-node');
  return ortModule;
}

/** Wraps a core tensor for onnxruntime without copying its data. */
export function toOrt(ort: Ort, t: Tensor, name: string): OrtTensor {
  if (!ONNXRUNTIME_DTYPES.has(t.dtype)) {
    throw new UnsupportedError(`onnxruntime-node cannot take a ${t.dtype} tensor`, { node: name });
  }
  return new ort.Tensor(t.dtype as OrtTensor.Type, t.data as OrtTensor.DataType, [...t.shape]);
}

/** A core tensor viewing an onnxruntime output (its data is already a JS-owned copy). */
export function fromOrt(t: OrtTensor, name: string): Tensor {
  if (!ONNXRUNTIME_DTYPES.has(t.type as DType)) {
    throw new UnsupportedError(`onnxruntime returned a ${t.type} tensor, which has no core dtype`, { node: name });
  }
  return { dtype: t.type as DType, shape: [...t.dims], data: t.data as Tensor['data'] };
}
