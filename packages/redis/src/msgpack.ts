// The MessagePack subset the store scripts' values are made of (Redis' cmsgpack: arrays, numbers,
// strings, false, nil), so the client can write a fresh key and read a refused one with native
// commands instead of a script (fast-claim.ts). Only what cmsgpack produces or accepts: no maps
// of our own, no extension types.

/** A value as it travels in a store key: nested arrays of numbers, strings, false and null. */
export type PackedValue = number | string | boolean | null | PackedValue[];

/** Thrown when bytes are not MessagePack of that subset: the caller treats the key as foreign. */
export class PackError extends Error {
  override name = 'PackError';
}

/** Encodes `value` as cmsgpack would read it: integers in their shortest form, other numbers as float64. */
export function pack(value: PackedValue): Buffer {
  const out = new Writer();
  write(out, value);
  return out.done();
}

/** Decodes bytes written by {@link pack} or by cmsgpack; throws {@link PackError} on anything else. */
export function unpack(bytes: Uint8Array): PackedValue {
  const reader = new Reader(bytes);
  const value = reader.value(0);
  if (reader.offset !== bytes.length) throw new PackError('trailing bytes');
  return value;
}

class Writer {
  private buffer = Buffer.allocUnsafe(128);
  private length = 0;

  room(bytes: number): Buffer {
    if (this.length + bytes > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    return this.buffer;
  }

  byte(value: number): void {
    this.room(1)[this.length++] = value;
  }

  head(tag: number, size: 1 | 2 | 4, value: number): void {
    const buffer = this.room(1 + size);
    buffer[this.length] = tag;
    if (size === 1) buffer.writeUInt8(value, this.length + 1);
    else if (size === 2) buffer.writeUInt16BE(value, this.length + 1);
    else buffer.writeUInt32BE(value, this.length + 1);
    this.length += 1 + size;
  }

  float64(value: number): void {
    const buffer = this.room(9);
    buffer[this.length] = 0xcb;
    buffer.writeDoubleBE(value, this.length + 1);
    this.length += 9;
  }

  /** A safe integer as 64 bits, in two 32-bit halves (no BigInt on the way: every claim writes two). */
  int64(tag: 0xcf | 0xd3, value: number): void {
    const buffer = this.room(9);
    buffer[this.length] = tag;
    const high = Math.floor(value / 0x1_0000_0000);
    buffer.writeInt32BE(high | 0, this.length + 1);
    buffer.writeUInt32BE(value - high * 0x1_0000_0000, this.length + 5);
    this.length += 9;
  }

  utf8(text: string, bytes: number): void {
    const buffer = this.room(bytes);
    this.length += buffer.write(text, this.length, 'utf8');
  }

  done(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

function write(out: Writer, value: PackedValue): void {
  if (typeof value === 'number') return writeNumber(out, value);
  if (typeof value === 'string') {
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes < 32) out.byte(0xa0 | bytes);
    else if (bytes <= 0xff) out.head(0xd9, 1, bytes);
    else if (bytes <= 0xffff) out.head(0xda, 2, bytes);
    else out.head(0xdb, 4, bytes);
    return out.utf8(value, bytes);
  }
  if (value === false) return out.byte(0xc2);
  if (value === true) return out.byte(0xc3);
  if (value === null) return out.byte(0xc0);
  if (value.length < 16) out.byte(0x90 | value.length);
  else if (value.length <= 0xffff) out.head(0xdc, 2, value.length);
  else out.head(0xdd, 4, value.length);
  for (const item of value) write(out, item);
}

function writeNumber(out: Writer, value: number): void {
  if (!Number.isSafeInteger(value)) return out.float64(value);
  if (value >= 0) {
    if (value < 0x80) return out.byte(value);
    if (value <= 0xff) return out.head(0xcc, 1, value);
    if (value <= 0xffff) return out.head(0xcd, 2, value);
    if (value <= 0xffffffff) return out.head(0xce, 4, value);
    return out.int64(0xcf, value);
  }
  if (value >= -32) return out.byte(value & 0xff);
  return out.int64(0xd3, value);
}

class Reader {
  offset = 0;
  private readonly bytes: Buffer;

  constructor(bytes: Uint8Array) {
    // ioredis replies are Buffers already: read them in place, without a DataView per value.
    this.bytes = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  value(depth: number): PackedValue {
    // Our values nest two deep; a deeper one is not ours (and must not exhaust the stack).
    if (depth > 8) throw new PackError('nested too deep');
    const tag = this.take(1, 0);
    if (tag < 0x80) return tag;
    if (tag >= 0xe0) return tag - 0x100;
    if (tag >= 0xa0 && tag <= 0xbf) return this.text(tag & 0x1f);
    if (tag >= 0x90 && tag <= 0x9f) return this.array(tag & 0x0f, depth);
    switch (tag) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xca:
        return this.take(4, 1);
      case 0xcb:
        return this.take(8, 1);
      case 0xcc:
        return this.take(1, 0);
      case 0xcd:
        return this.take(2, 0);
      case 0xce:
        return this.take(4, 0);
      case 0xcf:
        return this.take(8, 0);
      case 0xd0:
        return this.take(1, 2);
      case 0xd1:
        return this.take(2, 2);
      case 0xd2:
        return this.take(4, 2);
      case 0xd3:
        return this.take(8, 2);
      case 0xd9:
      case 0xc4:
        return this.text(this.take(1, 0));
      case 0xda:
      case 0xc5:
        return this.text(this.take(2, 0));
      case 0xdb:
      case 0xc6:
        return this.text(this.take(4, 0));
      case 0xdc:
        return this.array(this.take(2, 0), depth);
      case 0xdd:
        return this.array(this.take(4, 0), depth);
      default:
        throw new PackError(`unsupported tag 0x${tag.toString(16)}`);
    }
  }

  /** Reads a big-endian number of `size` bytes: 0 unsigned, 1 float, 2 signed. */
  private take(size: 1 | 2 | 4 | 8, kind: 0 | 1 | 2): number {
    const at = this.offset;
    if (at + size > this.bytes.length) throw new PackError('truncated');
    this.offset += size;
    const bytes = this.bytes;
    if (kind === 1) return size === 4 ? bytes.readFloatBE(at) : bytes.readDoubleBE(at);
    if (size === 1) return kind === 0 ? bytes[at]! : bytes.readInt8(at);
    if (size === 2) return kind === 0 ? bytes.readUInt16BE(at) : bytes.readInt16BE(at);
    if (size === 4) return kind === 0 ? bytes.readUInt32BE(at) : bytes.readInt32BE(at);
    // Two halves rather than a BigInt (every value holds two 64-bit times): the exact sum, rounded
    // once, as Number(BigInt) would round it.
    const high = kind === 0 ? bytes.readUInt32BE(at) : bytes.readInt32BE(at);
    return high * 0x1_0000_0000 + bytes.readUInt32BE(at + 4);
  }

  private text(bytes: number): string {
    const at = this.offset;
    if (at + bytes > this.bytes.length) throw new PackError('truncated');
    this.offset += bytes;
    return this.bytes.toString('utf8', at, at + bytes);
  }

  private array(length: number, depth: number): PackedValue[] {
    const items: PackedValue[] = new Array(length);
    for (let i = 0; i < length; i++) items[i] = this.value(depth + 1);
    return items;
  }
}
