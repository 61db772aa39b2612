import { parseAvroSchema } from '@app/codec';
import * as avro from 'avsc';
import { EventTimeUnreadableError, eventTimeReader } from './sink-schemas';

const writer = {
  type: 'record' as const,
  name: 'E',
  fields: [
    { name: 'eventId', type: 'string' },
    { name: 'occurredAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'seenAt', type: ['null', { type: 'long', logicalType: 'timestamp-micros' }] },
    { name: 'rest', type: 'string' },
  ],
};
const type = parseAvroSchema(JSON.stringify(writer));
const at = Date.UTC(2026, 10, 28, 5, 6, 7);

describe('eventTimeReader', () => {
  const body = type.toBuffer({ eventId: 'e', occurredAt: new Date(at), seenAt: new Date(at + 5), rest: 'x'.repeat(50) });

  it('reads the time field from the prefix of the value', () => {
    expect(eventTimeReader(writer, 'occurredAt')(body)).toBe(at);
    expect(eventTimeReader(writer, 'seenAt')(body)).toBe(at + 5);
    // The bytes after the time field are never read: a damaged tail still yields the time.
    expect(eventTimeReader(writer, 'occurredAt')(body.subarray(0, 12))).toBe(at);
  });

  it.each([true, false])('reads the body in place after a framing header (skipping: %s)', (skip) => {
    const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, 9]), body]);
    expect(eventTimeReader(writer, 'occurredAt', { skip })(framed, 5)).toBe(at);
    expect(eventTimeReader(writer, 'seenAt', { skip })(framed, 5)).toBe(at + 5);
    expect(() => eventTimeReader(writer, 'occurredAt', { skip })(framed.subarray(0, 8), 5)).toThrow(EventTimeUnreadableError);
  });

  it.each([
    ['a missing field', 'nope', body],
    ['a truncated value', 'occurredAt', body.subarray(0, 3)],
    ['a null time', 'seenAt', type.toBuffer({ eventId: 'e', occurredAt: new Date(at), seenAt: null, rest: '' })],
    ['a field that is not a time', 'rest', body],
  ])('rejects %s', (_what, field, value) => {
    expect(() => eventTimeReader(writer, field)(value)).toThrow(EventTimeUnreadableError);
  });
});

describe('eventTimeReader skipping the fields before the time on the wire', () => {
  const wide = {
    type: 'record' as const,
    name: 'Wide',
    fields: [
      { name: 'id', type: { type: 'string', logicalType: 'uuid' } },
      { name: 'n', type: 'int' },
      { name: 'big', type: 'long' },
      { name: 'flag', type: 'boolean' },
      { name: 'f', type: 'float' },
      { name: 'd', type: 'double' },
      { name: 'raw', type: 'bytes' },
      { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 18, scale: 2 } },
      { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B', 'C'] } },
      { name: 'hash', type: { type: 'fixed', name: 'Hash', size: 3 } },
      { name: 'note', type: ['null', 'string'] },
      { name: 'either', type: ['int', 'string'] },
      { name: 'nothing', type: 'null' },
      { name: 'at', type: ['null', { type: 'long', logicalType: 'timestamp-millis' }] },
      { name: 'iso', type: 'string' },
      { name: 'tail', type: 'string' },
    ],
  };
  const wideType = avro.Type.forSchema(wide as avro.Schema, { wrapUnions: 'auto' } as Partial<avro.ForSchemaOptions>);
  const value = (i: number, at: number | null) => ({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    n: i * 7 - 50,
    big: -i * 1_000_003,
    flag: i % 2 === 0,
    f: i / 3,
    d: -i / 7,
    raw: Buffer.alloc(i % 5, i),
    amount: Buffer.from([i % 256]),
    kind: ['A', 'B', 'C'][i % 3],
    hash: Buffer.from([1, 2, i % 256]),
    note: i % 3 === 0 ? null : `note ${i}`,
    either: i % 2 === 0 ? i : `s${i}`,
    nothing: null,
    at,
    iso: new Date(Date.UTC(2026, 10, 28, i % 24)).toISOString(),
    tail: 'x'.repeat(i),
  });

  it('reads the same time as the avsc prefix decoder, and fails where it fails', () => {
    for (const field of ['at', 'iso']) {
      const fast = eventTimeReader(wide, field);
      const slow = eventTimeReader(wide, field, { skip: false });
      for (let i = 0; i < 40; i++) {
        const body = wideType.toBuffer(value(i, i % 10 === 0 ? null : at + i * 61_000));
        const outcome = (read: (b: Buffer) => number, b: Buffer) => {
          try {
            return read(b);
          } catch (err) {
            return err instanceof EventTimeUnreadableError ? `unreadable` : `other ${String(err)}`;
          }
        };
        expect(outcome(fast, body)).toEqual(outcome(slow, body));
        // Cut anywhere: both agree whether the time is still there.
        for (let cut = 0; cut < body.length; cut += 3) expect(outcome(fast, body.subarray(0, cut))).toEqual(outcome(slow, body.subarray(0, cut)));
      }
    }
    expect(eventTimeReader(wide, 'at')(wideType.toBuffer(value(1, at)))).toBe(at);
  });

  it('rejects an invalid union index and a negative length as corrupt', () => {
    const corrupt = (bytes: number[]) => {
      try {
        eventTimeReader(writer, 'occurredAt')(Buffer.from(bytes));
        return 'read';
      } catch (err) {
        return (err as EventTimeUnreadableError).code;
      }
    };
    // eventId with length -1 (zig-zag 0x01).
    expect(corrupt([0x01, 0x02])).toBe('CORRUPT');
    const nullable = { ...writer, fields: [{ name: 'occurredAt', type: ['null', 'long'] }] };
    expect(() => eventTimeReader(nullable, 'occurredAt')(Buffer.from([0x04, 0x02]))).toThrow(EventTimeUnreadableError);
    expect(() => eventTimeReader(nullable, 'occurredAt')(Buffer.from([0x00]))).toThrow(/null/);
  });

  it('rejects an enum index outside the symbols as corrupt, as avsc does (the record goes to the DLQ)', () => {
    const withKind = { type: 'record' as const, name: 'K', fields: [{ name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B'] } }, writer.fields[1]] };
    const time = [0x80, 0xb8, 0x9d, 0xd8, 0xa7, 0x67]; // some zig-zag long
    for (const skip of [true, false]) {
      const read = eventTimeReader(withKind, 'occurredAt', { skip });
      expect(() => read(Buffer.from([0x04, ...time]))).toThrow(EventTimeUnreadableError); // index 2 of 2 symbols
      expect(typeof read(Buffer.from([0x02, ...time]))).toBe('number');
    }
  });

});
