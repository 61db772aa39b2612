/**
 * Schema evolution, vN → vN+1: `test/evolution/order-placed.v2.avsc` is the next version of
 * OrderPlaced as a team would ship it (a new optional field, a new channel symbol). Both directions
 * must stay readable: new consumers read old events (BACKWARD) and old consumers read new ones.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { avroSchema } from '@app/codec';
import { exampleEvents } from './examples';
import { topics } from './topic-catalog';

const v1 = topics.orderPlaced.schema;
const v2 = avroSchema(readFileSync(join(__dirname, '../test/evolution/order-placed.v2.avsc'), 'utf8'));

describe('OrderPlaced v1 → v2', () => {
  it('v2 reads v1 events, filling the new field with its default', () => {
    const written = v1.type.toBuffer(exampleEvents.orderPlaced);
    const read = v2.type.fromBuffer(written, v2.type.createResolver(v1.type));
    expect(read).toEqual({ ...exampleEvents.orderPlaced, giftMessage: null });
  });

  it('v1 reads v2 events, dropping the new field and mapping the new symbol to the enum default', () => {
    const v2Event = { ...exampleEvents.orderPlaced, channel: 'SOCIAL_COMMERCE', giftMessage: 'Happy birthday!' };
    const written = v2.type.toBuffer(v2Event);
    const read = v1.type.fromBuffer(written, v1.type.createResolver(v2.type));
    expect(read).toEqual({ ...exampleEvents.orderPlaced, channel: 'UNKNOWN' });
  });
});
