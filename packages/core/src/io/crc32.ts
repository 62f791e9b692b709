/**
 * CRC-32 (IEEE 802.3, the polynomial of zip, PNG and gzip; reflected 0xEDB88320, initial and
 * final XOR 0xFFFFFFFF). Detects every burst error up to 32 bits and all but 2⁻³² of random
 * corruptions: enough to refuse a damaged file, not a defence against tampering.
 */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 of `bytes` as an unsigned 32-bit number (crc32("123456789") = 0xCBF43926). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
