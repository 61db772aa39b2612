/**
 * Kafka's default partition for a key: murmur2 of its bytes (the Java client's hash, which kafkajs'
 * DefaultPartitioner also uses), made positive, modulo the partition count. Written with 32-bit integer
 * arithmetic: kafkajs' own version does the same in 64-bit Long objects and allocates several per byte
 * group, which under load cost the collector more than its own checks of the event.
 */
import type { ICustomPartitioner } from 'kafkajs';

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** murmur2 (Kafka's `Utils.murmur2`) of `data[start, end)`, as a signed 32-bit integer. */
export function murmur2(data: Uint8Array, start = 0, end = data.length): number {
  const length = end - start;
  let h = (SEED ^ length) | 0;
  const whole = start + (length & ~3);
  let i = start;
  for (; i < whole; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & 3;
  if (tail > 0) {
    if (tail === 3) h ^= data[i + 2] << 16;
    if (tail >= 2) h ^= data[i + 1] << 8;
    h ^= data[i];
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * murmur2 of a string's UTF-8 bytes. An ASCII string's bytes are its char codes, hashed without
 * encoding it (session ids nearly always are); any other string is encoded first.
 */
export function murmur2OfString(key: string): number {
  const length = key.length;
  let h = (SEED ^ length) | 0;
  const whole = length & ~3;
  let i = 0;
  let ascii = 0;
  for (; i < whole; i += 4) {
    const c0 = key.charCodeAt(i);
    const c1 = key.charCodeAt(i + 1);
    const c2 = key.charCodeAt(i + 2);
    const c3 = key.charCodeAt(i + 3);
    ascii |= c0 | c1 | c2 | c3;
    let k = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & 3;
  if (tail > 0) {
    const c0 = key.charCodeAt(i);
    const c1 = tail >= 2 ? key.charCodeAt(i + 1) : 0;
    const c2 = tail === 3 ? key.charCodeAt(i + 2) : 0;
    ascii |= c0 | c1 | c2;
    h ^= (c2 << 16) | (c1 << 8) | c0;
    h = Math.imul(h, M);
  }
  if (ascii >= 0x80) return murmur2(Buffer.from(key, 'utf8'));
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's default partitioner gives a key (a string: its UTF-8 bytes) among `partitionCount`. */
export function partitionOf(key: string | Uint8Array, partitionCount: number): number {
  return ((typeof key === 'string' ? murmur2OfString(key) : murmur2(key)) & 0x7fffffff) % partitionCount;
}

/** The partition Kafka's default partitioner gives a key of these bytes among `partitionCount`. */
export function partitionOfKey(key: Uint8Array, partitionCount: number, start = 0, end = key.length): number {
  return (murmur2(key, start, end) & 0x7fffffff) % partitionCount;
}

/**
 * The producer's partitioner: the collector names every message's partition itself (to know its offset
 * from the broker's answer), so this only passes it through; a message without one (never sent by the
 * collector) gets the default partition of its key.
 */
export const explicitPartitioner: ICustomPartitioner = () => ({ message, partitionMetadata }) => {
  if (message.partition !== undefined && message.partition !== null) return message.partition;
  const key = message.key;
  if (key === null || key === undefined) throw new Error('the collector sends keyed messages only');
  return partitionOf(key, partitionMetadata.length);
};
