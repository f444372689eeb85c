// Redis Cluster's key slot: CRC16-CCITT (XMODEM) of the hash tag, modulo 16384.
// Computed here (a few lines) rather than taking a dependency, so a batch can be grouped
// by slot before anything is sent and no CROSSSLOT error can reach the caller.

const SLOTS = 16_384;

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    table[byte] = crc & 0xffff;
  }
  return table;
})();

/** The Cluster slot of a hash tag (the text between the braces of a key). */
export function slotOfHashTag(hashTag: string): number {
  let crc = 0;
  for (const byte of Buffer.from(hashTag, 'utf8')) {
    crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!;
  }
  return crc % SLOTS;
}
