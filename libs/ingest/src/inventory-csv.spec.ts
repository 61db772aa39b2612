import { parseInventoryCsv } from './inventory-csv';

describe('parseInventoryCsv', () => {
  it('reads rows in header order and reports each bad row with its line, keeping the rest', () => {
    const text = 'onHand,sku,warehouseId\r\n5,SKU-1,WH-1\r\n\r\nx,SKU-2,WH-1\r\n7,bad sku,WH-2\r\n3,SKU-3\r\n0,"SKU-4",WH-9\r\n';
    const { counts, malformed } = parseInventoryCsv('a/inventory.csv', text);
    expect(counts).toEqual([
      { sku: 'SKU-1', warehouseId: 'WH-1', onHand: 5, line: 2 },
      { sku: 'SKU-4', warehouseId: 'WH-9', onHand: 0, line: 7 },
    ]);
    expect(malformed.map((m) => [m.file, m.line])).toEqual([
      ['a/inventory.csv', 4],
      ['a/inventory.csv', 5],
      ['a/inventory.csv', 6],
    ]);
    expect(malformed[0].reason).toMatch(/onHand "x"/);
    expect(malformed[1].reason).toMatch(/sku "bad sku"/);
    expect(malformed[2].reason).toMatch(/expected 3 columns, got 2/);
  });

  it('rejects negative, fractional and too large counts', () => {
    const { counts, malformed } = parseInventoryCsv('f.csv', 'sku,warehouseId,onHand\nA,W,-1\nA,W,1.5\nA,W,1000000001\nA,W,1000000000\n');
    expect(counts).toEqual([{ sku: 'A', warehouseId: 'W', onHand: 1_000_000_000, line: 5 }]);
    expect(malformed.map((m) => m.line)).toEqual([2, 3, 4]);
  });

  it('reports a file without the expected header once and reads none of it', () => {
    expect(parseInventoryCsv('f.csv', 'a,b,c\n1,2,3\n')).toEqual({ counts: [], malformed: [{ file: 'f.csv', line: 1, reason: expect.stringMatching(/header must name sku,warehouseId,onHand/) }] });
    expect(parseInventoryCsv('f.csv', '')).toEqual({ counts: [], malformed: [{ file: 'f.csv', line: 1, reason: 'empty file: no header' }] });
  });
});
