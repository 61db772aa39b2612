/**
 * Record keys built from the catalog's key fields: what partitions and compacts a topic, so a wrong or
 * half key silently spreads one entity over partitions (or merges two in compaction).
 */
import { recordKeyOf, topics } from './topic-catalog';

describe('recordKeyOf', () => {
  it('is the key field itself for a single-field key', () => {
    expect(recordKeyOf(topics.orderPlaced, { orderId: 'o-1' })).toBe('o-1');
    expect(topics.orderPlaced.keyFields).toEqual(['orderId']);
  });

  it('joins composite key fields with @, in the catalog order', () => {
    expect(recordKeyOf(topics.stockLevel, { warehouseId: 'WH-2', sku: 'SKU-9' })).toBe('SKU-9@WH-2');
  });

  it('refuses a value missing a key field, or with it null, naming the topic and the field', () => {
    expect(() => recordKeyOf(topics.stockLevel, { sku: 'SKU-9' })).toThrow('inventory.stock-level.v1: key field warehouseId missing');
    expect(() => recordKeyOf(topics.stockLevel, { sku: null, warehouseId: 'WH-2' })).toThrow('inventory.stock-level.v1: key field sku missing');
  });
});
