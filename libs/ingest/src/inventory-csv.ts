/**
 * Warehouse inventory counts (`sku,warehouseId,onHand`, header first): each valid row becomes the same
 * SET_ON_HAND command `PUT /stock/:sku` sends to inventory-service; a bad row is reported with its file
 * and line and the rest of the file goes on.
 */
export interface StockCount {
  sku: string;
  warehouseId: string;
  onHand: number;
  /** 1-based line in the file, for the report and the deterministic request id. */
  line: number;
}

export interface MalformedRow {
  file: string;
  line: number;
  reason: string;
}

/** The ids inventory-service accepts for SKUs and warehouses (its `ID_PATTERN`). */
const ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
const MAX_ON_HAND = 1_000_000_000;
const COLUMNS = ['sku', 'warehouseId', 'onHand'] as const;

export function parseInventoryCsv(file: string, text: string): { counts: StockCount[]; malformed: MalformedRow[] } {
  const counts: StockCount[] = [];
  const malformed: MalformedRow[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let order: number[] | undefined;
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    const cells = raw.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
    if (!order) {
      const header = cells.map((c) => c.toLowerCase());
      const positions = COLUMNS.map((c) => header.indexOf(c.toLowerCase()));
      if (positions.some((p) => p < 0)) {
        malformed.push({ file, line, reason: `header must name ${COLUMNS.join(',')} (got ${raw.slice(0, 80)})` });
        order = [];
        return;
      }
      order = positions;
      return;
    }
    if (order.length === 0) return; // no usable header: the whole file was reported once
    if (cells.length < COLUMNS.length) {
      malformed.push({ file, line, reason: `expected ${COLUMNS.length} columns, got ${cells.length}` });
      return;
    }
    const [sku, warehouseId, onHandText] = order.map((p) => cells[p] ?? '');
    const problems: string[] = [];
    if (!ID_PATTERN.test(sku)) problems.push(`sku ${JSON.stringify(sku)} is not 1-64 letters, digits or . _ : -`);
    if (!ID_PATTERN.test(warehouseId)) problems.push(`warehouseId ${JSON.stringify(warehouseId)} is not 1-64 letters, digits or . _ : -`);
    const onHand = /^\d+$/.test(onHandText) ? Number(onHandText) : NaN;
    if (!Number.isInteger(onHand) || onHand < 0 || onHand > MAX_ON_HAND) problems.push(`onHand ${JSON.stringify(onHandText)} is not a whole number 0..${MAX_ON_HAND}`);
    if (problems.length > 0) malformed.push({ file, line, reason: problems.join('; ') });
    else counts.push({ sku, warehouseId, onHand, line });
  });
  if (!order) malformed.push({ file, line: 1, reason: 'empty file: no header' });
  return { counts, malformed };
}

/** The SET_ON_HAND command inventory-service's SKU writer applies (same as `PUT /stock/:sku`). */
export interface SetOnHandCommand {
  type: 'SET_ON_HAND';
  sku: string;
  warehouseId: string;
  onHand: number;
  requestId: string;
}

/** Where stock counts go; the Kafka implementation publishes to inventory-service's request topic. */
export interface StockCountSink {
  publish(commands: readonly SetOnHandCommand[]): Promise<void>;
  close(): Promise<void>;
}
