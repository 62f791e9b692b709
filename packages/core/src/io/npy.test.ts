import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy, encodeNpy } from './npy.js';
import { FormatError, UnsupportedError } from '../errors.js';

/** Builds a .npy file by hand (version, header text, payload) to test the reader against the spec. */
function npyBytes(major: number, header: string, payload: Uint8Array): Uint8Array {
  const pre = major === 1 ? 10 : 12;
  const total = Math.ceil((pre + header.length + 1) / 64) * 64;
  const h = header.padEnd(total - pre - 1, ' ') + '\n';
  const out = new Uint8Array(total + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const v = new DataView(out.buffer);
  if (major === 1) v.setUint16(8, h.length, true);
  else v.setUint32(8, h.length, true);
  out.set(new TextEncoder().encode(h), pre);
  out.set(payload, total);
  return out;
}

describe('.npy', () => {
  it('round-trips float32, float64 and int64 with exact bytes', () => {
    const f32 = { dtype: 'float32' as const, shape: [2, 3], data: Float32Array.from([1, 2, 3, 4.5, -5, 6]) };
    const back = decodeNpy(encodeNpy(f32));
    expect(back.shape).toEqual([2, 3]);
    expect(Array.from(back.data as Float32Array)).toEqual(Array.from(f32.data));
    expect(encodeNpy(back)).toEqual(encodeNpy(f32));
    const i64 = { dtype: 'int64' as const, shape: [3], data: BigInt64Array.from([1n, -2n, 9007199254740993n]) };
    expect(decodeNpy(encodeNpy(i64)).data).toEqual(i64.data);
    const f64 = { dtype: 'float64' as const, shape: [], data: Float64Array.from([Math.PI]) };
    expect(decodeNpy(encodeNpy(f64))).toEqual({ dtype: 'float64', shape: [], data: Float64Array.from([Math.PI]) });
  });

  it('reads header versions 2.0 and 3.0', () => {
    const payload = new Uint8Array(Float64Array.from([1, 2]).buffer);
    for (const major of [2, 3]) {
      const t = decodeNpy(npyBytes(major, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", payload));
      expect(Array.from(t.data as Float64Array)).toEqual([1, 2]);
    }
  });

  it('matches the layout numpy writes (header padded to 64 bytes, version 1.0)', () => {
    const bytes = encodeNpy({ dtype: 'float32', shape: [4, 4], data: new Float32Array(16) });
    expect(bytes.length).toBe(128 + 64);
    expect(new TextDecoder().decode(bytes.subarray(10, 128))).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(4, 4\), \} +\n$/);
  });

  it('refuses Fortran order, big-endian, unsupported dtypes and truncation with typed errors', () => {
    const payload = new Uint8Array(16);
    expect(() => decodeNpy(npyBytes(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", payload), 'x.npy')).toThrow(UnsupportedError);
    expect(() => decodeNpy(npyBytes(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", payload), 'x.npy')).toThrow(/x\.npy: .*Fortran/);
    expect(() => decodeNpy(npyBytes(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", payload))).toThrow(/little-endian/);
    expect(() => decodeNpy(npyBytes(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", payload))).toThrow(/dtype <c8/);
    expect(() => decodeNpy(npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", payload))).toThrow(/truncated .npy data/);
    expect(() => decodeNpy(new TextEncoder().encode('just some text, no magic'))).toThrow(FormatError);
    const good = encodeNpy({ dtype: 'float32', shape: [4], data: new Float32Array(4) });
    expect(() => decodeNpy(good.subarray(0, 20))).toThrow(/truncated .npy header/);
  });

  it('interoperates with numpy when python3 with numpy is available', () => {
    let hasNumpy = true;
    try {
      execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    } catch {
      hasNumpy = false;
    }
    if (!hasNumpy) return;
    const dir = mkdtempSync(join(tmpdir(), 'npy-'));
    const ours = join(dir, 'ours.npy');
    writeFileSync(ours, encodeNpy({ dtype: 'float32', shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) }));
    const theirs = join(dir, 'theirs.npy');
    execFileSync('python3', [
      '-c',
      `import numpy as np; a=np.load('${ours}'); assert a.dtype==np.float32 and a.shape==(2,2) and a[1,0]==3; np.save('${theirs}', np.arange(6, dtype=np.float64).reshape(3,2))`,
    ]);
    const t = decodeNpy(readFileSync(theirs));
    expect(t.shape).toEqual([3, 2]);
    expect(Array.from(t.data as Float64Array)).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
