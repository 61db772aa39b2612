import { incompatibilities } from './compatibility';

const base = {
  type: 'record',
  name: 'OrderPlaced',
  namespace: 'com.securecart.orders',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'quantity', type: 'int' },
    { name: 'channel', type: { type: 'enum', name: 'Channel', symbols: ['WEB', 'APP'] } },
    { name: 'items', type: { type: 'array', items: { type: 'record', name: 'Item', fields: [{ name: 'sku', type: 'string' }] } } },
    {
      name: 'gift',
      type: ['null', { type: 'record', name: 'Gift', fields: [{ name: 'message', type: 'string' }] }],
      default: null,
    },
  ],
};

function changed(edit: (schema: typeof base & { fields: Record<string, unknown>[] }) => void): string {
  const copy = JSON.parse(JSON.stringify(base));
  edit(copy);
  return JSON.stringify(copy);
}

const v1 = JSON.stringify(base);

describe('incompatibilities (local BACKWARD check)', () => {
  it.each([
    ['an optional field with a default', changed((s) => s.fields.push({ name: 'note', type: ['null', 'string'], default: null }))],
    ['a removed field', changed((s) => s.fields.splice(1, 1))],
    ['a widened int → long', changed((s) => (s.fields[1].type = 'long'))],
    ['a new enum symbol', changed((s) => ((s.fields[2].type as { symbols: string[] }).symbols.push('POS')))],
  ])('accepts %s', (_what, next) => {
    expect(incompatibilities(next, v1)).toEqual([]);
  });

  it('names a required field added without a default', () => {
    const next = changed((s) => s.fields.push({ name: 'loyaltyTier', type: 'string' }));
    expect(incompatibilities(next, v1)).toEqual([
      {
        path: 'com.securecart.orders.OrderPlaced.loyaltyTier',
        problem: 'field added without a default: records written before it have no value for it',
      },
    ]);
  });

  it('names a field whose type can no longer read old values', () => {
    const next = changed((s) => (s.fields[0].type = 'int'));
    expect(incompatibilities(next, v1)).toEqual([
      {
        path: 'com.securecart.orders.OrderPlaced.orderId',
        problem: 'type changed from string to int, which cannot read the old values',
      },
    ]);
  });

  it('names a nested field inside an array of records', () => {
    const next = changed((s) => {
      const item = (s.fields[3].type as { items: { fields: Record<string, unknown>[] } }).items;
      item.fields.push({ name: 'warehouse', type: 'string' });
    });
    expect(incompatibilities(next, v1).map((i) => i.path)).toEqual(['com.securecart.orders.OrderPlaced.items[].warehouse']);
  });

  it('names a field added inside a nullable record', () => {
    const next = changed((s) => {
      const gift = (s.fields[4].type as [string, { fields: Record<string, unknown>[] }])[1];
      gift.fields.push({ name: 'wrapping', type: 'string' });
    });
    expect(incompatibilities(next, v1).map((i) => i.path)).toEqual(['com.securecart.orders.OrderPlaced.gift.wrapping']);
  });

  it('names a renamed enum instead of listing no dropped symbols', () => {
    const next = changed((s) => ((s.fields[2].type as { name: string }).name = 'SalesChannel'));
    expect(incompatibilities(next, v1)).toEqual([
      {
        path: 'com.securecart.orders.OrderPlaced.channel',
        problem: 'enum renamed from com.securecart.orders.Channel to com.securecart.orders.SalesChannel without an alias',
      },
    ]);
  });

  it('names an enum that dropped a symbol without a default', () => {
    const next = changed((s) => ((s.fields[2].type as { symbols: string[] }).symbols = ['WEB']));
    expect(incompatibilities(next, v1)).toEqual([
      { path: 'com.securecart.orders.OrderPlaced.channel', problem: 'enum com.securecart.orders.Channel dropped APP and has no default to read them as' },
    ]);
  });
});

describe('incompatibilities: ambiguous unions and namespaces', () => {
  const placed = { type: 'record', name: 'Placed', namespace: 'com.acme', fields: [{ name: 'orderId', type: 'string' }] };
  const cancelled = { type: 'record', name: 'Cancelled', namespace: 'com.acme', fields: [{ name: 'reason', type: 'string' }] };
  const withEvent = (event: unknown, extra: object = {}) =>
    JSON.stringify({ type: 'record', name: 'OrderEvent', namespace: 'com.acme', fields: [{ name: 'event', type: event }], ...extra });

  it('accepts a namespace change (records resolve by unqualified name, as the specification says)', () => {
    expect(incompatibilities(changed((s) => (s.namespace = 'com.securecart.sales')), v1)).toEqual([]);
  });

  it('accepts a union of two records gaining a third, and names the branch a union lost', () => {
    const refunded = { ...placed, name: 'Refunded' };
    expect(incompatibilities(withEvent([placed, cancelled, refunded]), withEvent([placed, cancelled]))).toEqual([]);
    expect(incompatibilities(withEvent([placed]), withEvent([placed, cancelled]))).toEqual([
      { path: 'com.acme.OrderEvent.event', problem: 'values of type com.acme.Cancelled can no longer be read: the union lost that branch' },
    ]);
  });

  it('accepts ["int","long"] in place of int and names it in place of string', () => {
    expect(incompatibilities(withEvent(['int', 'long']), withEvent('int'))).toEqual([]);
    expect(incompatibilities(withEvent(['int', 'long']), withEvent('string'))).toEqual([
      { path: 'com.acme.OrderEvent.event', problem: 'values of type string can no longer be read: the union lost that branch' },
    ]);
  });

  it('names a field added inside one record of a union of records after the namespace moved', () => {
    const moved = (r: typeof placed) => ({ ...r, namespace: 'com.acme.v2' });
    const next = withEvent([moved(placed), { ...moved(cancelled), fields: [...cancelled.fields, { name: 'by', type: 'string' }] }]);
    expect(incompatibilities(next, withEvent([placed, cancelled]))).toEqual([
      { path: 'com.acme.OrderEvent.event.by', problem: 'field added without a default: records written before it have no value for it' },
    ]);
  });
});
