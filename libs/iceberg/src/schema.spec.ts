import { assignFieldIds, duckdbFieldIds, unassignedField, type NestedField } from './schema';

const v1: NestedField[] = [
  unassignedField('eventId', 'string'),
  unassignedField('occurredAt', 'timestamptz'),
  unassignedField('customer', { type: 'struct', fields: [unassignedField('id', 'string'), unassignedField('tier', 'int')] }),
  unassignedField('lineItems', { type: 'list', 'element-id': 0, element: { type: 'struct', fields: [unassignedField('sku', 'string')] }, 'element-required': false }),
  unassignedField('_headers', { type: 'map', 'key-id': 0, key: 'string', 'value-id': 0, value: 'string', 'value-required': false }),
];

describe('field ids', () => {
  it('numbers a new table parents first, then children, in schema order', () => {
    const { fields, lastColumnId } = assignFieldIds(v1, undefined, 0);
    expect(fields.map((f) => f.id)).toEqual([1, 2, 3, 4, 5]);
    expect(fields[2].type).toMatchObject({ fields: [{ name: 'id', id: 6 }, { name: 'tier', id: 7 }] });
    expect(fields[3].type).toMatchObject({ 'element-id': 8, element: { fields: [{ name: 'sku', id: 9 }] } });
    expect(fields[4].type).toMatchObject({ 'key-id': 10, 'value-id': 11 });
    expect(lastColumnId).toBe(11);
  });

  it('keeps ids by name path, gives new fields new ids, and never reuses a removed id', () => {
    const first = assignFieldIds(v1, undefined, 0);
    // v2: customer.tier removed, giftMessage added, tier int -> long promotion elsewhere is fine.
    const v2 = [...v1.slice(0, 2), unassignedField('customer', { type: 'struct', fields: [unassignedField('id', 'string')] }), ...v1.slice(3), unassignedField('giftMessage', 'string')];
    const second = assignFieldIds(v2, first.fields, first.lastColumnId);
    expect(second.fields.map((f) => [f.name, f.id])).toEqual([
      ['eventId', 1],
      ['occurredAt', 2],
      ['customer', 3],
      ['lineItems', 4],
      ['_headers', 5],
      ['giftMessage', 12],
    ]);
    // v3 brings customer.tier back: a new field with a new id (its old data is not resurrected).
    const third = assignFieldIds(v1, second.fields, second.lastColumnId);
    expect(third.fields[2].type).toMatchObject({ fields: [{ name: 'id', id: 6 }, { name: 'tier', id: 13 }] });
    expect(third.lastColumnId).toBe(13);
  });

  it('keeps the id through an allowed promotion and not through an incompatible change', () => {
    const first = assignFieldIds([unassignedField('n', 'int'), unassignedField('d', 'decimal(10, 2)'), unassignedField('s', 'string')], undefined, 0);
    const second = assignFieldIds([unassignedField('n', 'long'), unassignedField('d', 'decimal(18, 2)'), unassignedField('s', 'int')], first.fields, first.lastColumnId);
    expect(second.fields.map((f) => f.id)).toEqual([1, 2, 4]);
  });

  it('renders DuckDB FIELD_IDS with explicit ids for nested fields, list elements and map keys/values', () => {
    const { fields } = assignFieldIds(v1, undefined, 0);
    expect(duckdbFieldIds(fields)).toBe(
      '{"eventId": 1, "occurredAt": 2, "customer": {__duckdb_field_id: 3, "id": 6, "tier": 7}, ' +
        '"lineItems": {__duckdb_field_id: 4, element: {__duckdb_field_id: 8, "sku": 9}}, "_headers": {__duckdb_field_id: 5, key: 10, value: 11}}',
    );
  });
});
