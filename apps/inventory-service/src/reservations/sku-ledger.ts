/**
 * The stock of one SKU across its warehouses and the holds on it. One ledger per SKU, owned by the
 * single task whose partition the SKU hashes to (requests are keyed by SKU), so two reservations for
 * the same SKU are never decided concurrently: that is what makes overselling impossible.
 * Memory is bounded by live SKUs and open holds; released holds are deleted.
 */
export interface Allocation {
  warehouseId: string;
  quantity: number;
}

export interface SkuLedger {
  sku: string;
  /** Units physically present, per warehouse. */
  onHand: Record<string, number>;
  /** Open holds per order: which warehouses the units were taken from. */
  holds: Record<string, Allocation[]>;
}

export type SkuRequest =
  | { type: 'RESERVE'; orderId: string; quantity: number }
  | { type: 'RELEASE'; orderId: string }
  | { type: 'SET_ON_HAND'; warehouseId: string; onHand: number; requestId: string };

export type ReserveReply = { orderId: string; sku: string; requested: number } & (
  | { ok: true; allocations: Allocation[] }
  | { ok: false; available: number }
);

/** One warehouse's level after a change: what `inventory.stock-level.v1` carries. */
export interface WarehouseLevel {
  sku: string;
  warehouseId: string;
  onHand: number;
  reserved: number;
}

export interface LedgerStep {
  ledger: SkuLedger;
  reply?: ReserveReply;
  /** Warehouses whose level changed, in warehouse order. */
  changed: WarehouseLevel[];
  changeReason?: 'RESERVATION' | 'RELEASE' | 'ADJUSTMENT';
}

export function emptyLedger(sku: string): SkuLedger {
  return { sku, onHand: {}, holds: {} };
}

export function reservedIn(ledger: SkuLedger, warehouseId: string): number {
  let reserved = 0;
  for (const allocations of Object.values(ledger.holds)) {
    for (const a of allocations) if (a.warehouseId === warehouseId) reserved += a.quantity;
  }
  return reserved;
}

/** `GET /stock/:sku`: totals over warehouses. */
export function totals(ledger: SkuLedger): { sku: string; onHand: number; reserved: number; available: number } {
  const onHand = Object.values(ledger.onHand).reduce((a, b) => a + b, 0);
  const reserved = Object.values(ledger.holds)
    .flat()
    .reduce((a, b) => a + b.quantity, 0);
  return { sku: ledger.sku, onHand, reserved, available: onHand - reserved };
}

function levels(ledger: SkuLedger, warehouseIds: string[]): WarehouseLevel[] {
  return [...new Set(warehouseIds)].sort().map((warehouseId) => ({
    sku: ledger.sku,
    warehouseId,
    onHand: ledger.onHand[warehouseId] ?? 0,
    reserved: reservedIn(ledger, warehouseId),
  }));
}

/** Applies one request to the SKU's ledger. Repeated requests (same order) answer the same and change nothing. */
export function applySkuRequest(ledger: SkuLedger, request: SkuRequest): LedgerStep {
  switch (request.type) {
    case 'RESERVE': {
      const existing = ledger.holds[request.orderId];
      if (existing) {
        return { ledger, changed: [], reply: { orderId: request.orderId, sku: ledger.sku, requested: request.quantity, ok: true, allocations: existing } };
      }
      const allocations: Allocation[] = [];
      let missing = request.quantity;
      // Take from warehouses in a fixed order so a replay allocates the same way.
      for (const warehouseId of Object.keys(ledger.onHand).sort()) {
        if (missing === 0) break;
        const free = Math.max(0, (ledger.onHand[warehouseId] ?? 0) - reservedIn(ledger, warehouseId));
        const take = Math.min(free, missing);
        if (take > 0) {
          allocations.push({ warehouseId, quantity: take });
          missing -= take;
        }
      }
      if (missing > 0) {
        const available = Math.max(0, totals(ledger).available);
        return { ledger, changed: [], reply: { orderId: request.orderId, sku: ledger.sku, requested: request.quantity, ok: false, available } };
      }
      const next = { ...ledger, holds: { ...ledger.holds, [request.orderId]: allocations } };
      return {
        ledger: next,
        reply: { orderId: request.orderId, sku: ledger.sku, requested: request.quantity, ok: true, allocations },
        changed: levels(next, allocations.map((a) => a.warehouseId)),
        changeReason: 'RESERVATION',
      };
    }
    case 'RELEASE': {
      const held = ledger.holds[request.orderId];
      if (!held) return { ledger, changed: [] };
      const holds = { ...ledger.holds };
      delete holds[request.orderId];
      const next = { ...ledger, holds };
      return { ledger: next, changed: levels(next, held.map((a) => a.warehouseId)), changeReason: 'RELEASE' };
    }
    case 'SET_ON_HAND': {
      const next = { ...ledger, onHand: { ...ledger.onHand, [request.warehouseId]: request.onHand } };
      return { ledger: next, changed: levels(next, [request.warehouseId]), changeReason: 'ADJUSTMENT' };
    }
  }
}
