import type { Int64 } from './schema/types.js';

const TWO_32 = 4294967296;

/** A signed int64 from protobufjs as a JS number (exact below 2^53 in magnitude). */
export function int64ToNumber(v: Int64 | undefined): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  return v.unsigned ? (v.high >>> 0) * TWO_32 + (v.low >>> 0) : (v.high | 0) * TWO_32 + (v.low >>> 0);
}

/** An unsigned uint64 from protobufjs as a JS number (exact below 2^53). */
export function uint64ToNumber(v: Int64): number {
  if (typeof v === 'number') return v < 0 ? v + TWO_32 * TWO_32 : v;
  return (v.high >>> 0) * TWO_32 + (v.low >>> 0);
}

/** Low and high 32-bit words of a protobufjs 64-bit value (two's complement). */
export function int64Words(v: Int64): [low: number, high: number] {
  if (typeof v === 'number') {
    const b = BigInt.asUintN(64, BigInt(Math.trunc(v)));
    return [Number(b & 0xffffffffn) | 0, Number(b >> 32n) | 0];
  }
  return [v.low | 0, v.high | 0];
}

const INT64_MAX = { low: -1, high: 0x7fffffff };
const INT64_MIN = { low: 0, high: -0x80000000 };

/**
 * A JS number as an int64 for protobufjs. Integers beyond ±2^63 saturate to INT64_MAX/MIN, which is
 * how the IR stores e.g. Slice's "to the end" (INT64_MAX reads back as 2^63).
 */
export function numberToInt64(v: number): Int64 {
  if (Number.isSafeInteger(v)) return v;
  if (v >= 2 ** 63) return INT64_MAX;
  if (v <= -(2 ** 63)) return INT64_MIN;
  const b = BigInt.asUintN(64, BigInt(v));
  return { low: Number(b & 0xffffffffn) | 0, high: Number(b >> 32n) | 0 };
}
