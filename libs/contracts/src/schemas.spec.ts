import { decimal } from '@app/codec';
import { exampleEvents } from './examples';
import { recordKeyOf, topics, type TopicKey } from './topic-catalog';

type Mutation = [description: string, mutate: (event: Record<string, unknown>) => void];

const missing = (field: string): Mutation => [`missing ${field}`, (e) => delete e[field]];
const set = (field: string, value: unknown, why: string): Mutation => [why, (e) => (e[field] = value)];

const common: Mutation[] = [
  missing('eventId'),
  missing('occurredAt'),
  missing('producer'),
  missing('correlationId'),
  set('occurredAt', 1732615530123, 'occurredAt as a number, not a Date'),
  set('occurredAt', new Date('not a date'), 'occurredAt as an invalid Date'),
];

/** Per schema: ways to break a valid event that the schema must reject. */
const invalidExamples: Record<TopicKey, Mutation[]> = {
  orderPlaced: [
    missing('orderId'),
    set('grandTotal', 59.37, 'a float amount instead of a decimal'),
    set('grandTotal', '59.375', 'an amount with three fraction digits'),
    set('grandTotal', '99999999999999999.00', 'an amount beyond precision 18'),
    set('channel', 'CARRIER_PIGEON', 'an unknown channel'),
    set('lineItems', [{ sku: 'X', quantity: 1.5, unitPrice: decimal('1.00') }], 'a fractional quantity'),
    set('payment', { type: 'CARD' }, 'a payment without fingerprint'),
  ],
  orderConfirmed: [missing('reservationId'), set('fraudScore', '12', 'a score as a string')],
  orderRejected: [set('reasons', [{ code: 'BAD_LUCK', detail: '' }], 'an unknown rejection code')],
  orderCancelled: [set('cancelledBy', 'ALIENS', 'an unknown cancellation source')],
  stockLevel: [missing('sku'), set('onHand', null, 'a null on-hand')],
  stockReserved: [set('expiresAt', '2026-11-26', 'expiresAt as a string')],
  stockReservationRejected: [set('shortages', [{ sku: 'X', requested: 1 }], 'a shortage without available')],
  stockReleased: [set('reason', 'BORED', 'an unknown release reason')],
  fraudAssessed: [
    set('decision', 'MAYBE', 'an unknown decision'),
    set('ruleVersions', { velocity: 7 }, 'a rule version that is not a string'),
  ],
  clickstream: [set('eventType', 'SCROLL', 'an unknown event type'), missing('pageUrl')],
  batchCompleted: [set('status', 'MAYBE', 'an unknown status'), set('tables', [{ name: 'orders_daily', rows: 1 }], 'a table without manifestKey')],
  partnerFileReceived: [set('sizeBytes', 1.5, 'a fractional size'), missing('lakeKey')],
};

describe.each(Object.keys(topics) as TopicKey[])('schema of %s', (key) => {
  const { schema, name } = topics[key];
  const valid = exampleEvents[key] as unknown as Record<string, unknown>;

  it(`accepts the example ${schema.name} and round-trips it exactly`, () => {
    expect(schema.type.isValid(valid)).toBe(true);
    expect(schema.type.fromBuffer(schema.type.toBuffer(valid))).toEqual(valid);
  });

  it.each([...common, ...invalidExamples[key]])(`rejects ${name} with %s`, (_description, mutate) => {
    const event = { ...valid };
    mutate(event);
    expect(schema.type.isValid(event)).toBe(false);
  });

  it('documents every field', () => {
    const undocumented: string[] = [];
    const visit = (node: unknown, path: string) => {
      if (Array.isArray(node)) return node.forEach((n) => visit(n, path));
      if (!node || typeof node !== 'object') return;
      const n = node as Record<string, unknown>;
      if (Array.isArray(n.fields)) {
        for (const f of n.fields as Record<string, unknown>[]) {
          if (typeof f.doc !== 'string' || f.doc.length === 0) undocumented.push(`${path}.${String(f.name)}`);
          visit(f.type, `${path}.${String(f.name)}`);
        }
      }
      if (n.items) visit(n.items, path);
      if (n.values) visit(n.values, path);
    };
    visit(JSON.parse(schema.json), schema.name);
    expect(undocumented).toEqual([]);
  });

  it('carries the platform envelope and keeps money in decimal(18,2)', () => {
    const json = JSON.parse(schema.json);
    expect(json.namespace).toMatch(/^com\.securecart\./);
    expect(json.fields.slice(0, 4).map((f: { name: string }) => f.name)).toEqual([
      'eventId',
      'occurredAt',
      'producer',
      'correlationId',
    ]);
    const text = schema.json;
    expect(text).not.toMatch(/"(float|double)"/);
    for (const match of text.matchAll(/"logicalType":"decimal"[^}]*/g)) {
      expect(match[0]).toContain('"precision":18');
      expect(match[0]).toContain('"scale":2');
    }
  });
});

describe('topic catalog', () => {
  it('names every topic <domain>.<event-name>.v<major> with a <topic>.dlq', () => {
    for (const topic of Object.values(topics)) {
      expect(topic.name).toMatch(/^[a-z]+\.[a-z-]+\.v\d+$/);
      expect(topic.dlq).toBe(`${topic.name}.dlq`);
    }
  });

  it('keys every topic by fields its schema has, starting with keyField', () => {
    for (const topic of Object.values(topics)) {
      const fields = JSON.parse(topic.schema.json).fields.map((f: { name: string }) => f.name);
      expect(fields).toEqual(expect.arrayContaining([...topic.keyFields]));
      expect(topic.keyFields[0]).toBe(topic.keyField);
    }
  });

  it('compacts the stock level topic by sku@warehouseId (one count per warehouse)', () => {
    expect(topics.stockLevel).toMatchObject({ cleanupPolicy: 'compact', keyField: 'sku', keyFields: ['sku', 'warehouseId'], retentionMs: -1 });
    expect(recordKeyOf(topics.stockLevel, { sku: 'SKU-1', warehouseId: 'WH-2' })).toBe('SKU-1@WH-2');
    expect(recordKeyOf(topics.orderPlaced, { orderId: 'o-1' })).toBe('o-1');
  });
});
