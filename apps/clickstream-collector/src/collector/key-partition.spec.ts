import { randomBytes } from 'node:crypto';
import { Partitioners, type PartitionerArgs } from 'kafkajs';
import { explicitPartitioner, partitionOf, partitionOfKey } from './key-partition';

const metadata = (count: number): PartitionerArgs['partitionMetadata'] =>
  Array.from({ length: count }, (_, partitionId) => ({ partitionErrorCode: 0, partitionId, leader: 0, replicas: [0], isr: [0] }));

describe('partitionOfKey', () => {
  const kafkajs = Partitioners.DefaultPartitioner();

  it("gives every key the partition kafkajs' default partitioner (Kafka's murmur2) gives it", () => {
    const keys = [
      '',
      'a',
      'ab',
      'abc',
      'abcd',
      'bench-ses-4711',
      'ses-ünïcødé-🛒',
      'é',
      'aé',
      'abcé',
      'abcdé',
      ...Array.from({ length: 400 }, (_, i) => randomBytes(i % 41).toString(i % 2 ? 'hex' : 'latin1')),
    ];
    for (const count of [1, 3, 12, 100]) {
      for (const key of keys) {
        const bytes = Buffer.from(key);
        const expected = kafkajs({ topic: 't', partitionMetadata: metadata(count), message: { key, value: null } });
        expect([key, partitionOfKey(bytes, count), partitionOf(key, count), partitionOf(bytes, count)]).toEqual([key, expected, expected, expected]);
      }
    }
  });

  it('hashes a key inside a larger buffer by its range', () => {
    const framed = Buffer.concat([Buffer.from('xx'), Buffer.from('bench-ses-1'), Buffer.from('yyy')]);
    expect(partitionOfKey(framed, 12, 2, 2 + 'bench-ses-1'.length)).toBe(partitionOfKey(Buffer.from('bench-ses-1'), 12));
  });
});

describe('explicitPartitioner', () => {
  const partitioner = explicitPartitioner();

  it("keeps a message's own partition and gives a keyed one without it the key's partition", () => {
    expect(partitioner({ topic: 't', partitionMetadata: metadata(12), message: { key: 'k', value: null, partition: 7 } })).toBe(7);
    expect(partitioner({ topic: 't', partitionMetadata: metadata(12), message: { key: 'bench-ses-9', value: null } })).toBe(partitionOfKey(Buffer.from('bench-ses-9'), 12));
  });
});
