import { parseAvroSchema } from '@app/codec';
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

  it.each([
    ['a missing field', 'nope', body],
    ['a truncated value', 'occurredAt', body.subarray(0, 3)],
    ['a null time', 'seenAt', type.toBuffer({ eventId: 'e', occurredAt: new Date(at), seenAt: null, rest: '' })],
    ['a field that is not a time', 'rest', body],
  ])('rejects %s', (_what, field, value) => {
    expect(() => eventTimeReader(writer, field)(value)).toThrow(EventTimeUnreadableError);
  });
});
