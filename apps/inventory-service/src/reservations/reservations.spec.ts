import { applyReservationInput, mergeLines, type OrderReservation, type ReservationInput, type ReservationStep } from './order-reservation';
import { applySkuRequest, emptyLedger, totals, type SkuLedger, type SkuRequest } from './sku-ledger';

function ledgerWith(sku: string, onHand: Record<string, number>): SkuLedger {
  let ledger = emptyLedger(sku);
  for (const [warehouseId, units] of Object.entries(onHand)) {
    ledger = applySkuRequest(ledger, { type: 'SET_ON_HAND', warehouseId, onHand: units, requestId: 'r' }).ledger;
  }
  return ledger;
}

describe('SKU ledger', () => {
  it.each([
    ['enough in one warehouse', { W1: 5 }, 3, true, [{ warehouseId: 'W1', quantity: 3 }]],
    ['split over warehouses in id order', { W2: 2, W1: 2 }, 3, true, [{ warehouseId: 'W1', quantity: 2 }, { warehouseId: 'W2', quantity: 1 }]],
    ['exactly what is there', { W1: 3 }, 3, true, [{ warehouseId: 'W1', quantity: 3 }]],
    ['one short', { W1: 2 }, 3, false, []],
    ['unknown sku', {}, 1, false, []],
  ])('given %s (%j on hand, %i asked), the reservation answers as expected', (_case, onHand, quantity, ok, allocations) => {
    const step = applySkuRequest(ledgerWith('A', onHand), { type: 'RESERVE', orderId: 'o1', quantity });
    expect(step.reply?.ok).toBe(ok);
    if (step.reply?.ok) expect(step.reply.allocations).toEqual(allocations);
    else expect(step.changed).toEqual([]);
  });

  it('answers a repeated reservation with the same hold and does not hold twice', () => {
    const first = applySkuRequest(ledgerWith('A', { W1: 5 }), { type: 'RESERVE', orderId: 'o1', quantity: 3 });
    const again = applySkuRequest(first.ledger, { type: 'RESERVE', orderId: 'o1', quantity: 3 });
    expect(again.reply).toEqual(first.reply);
    expect(totals(again.ledger)).toEqual({ sku: 'A', onHand: 5, reserved: 3, available: 2 });
  });

  it('releases a hold once; a second release changes nothing', () => {
    const held = applySkuRequest(ledgerWith('A', { W1: 5 }), { type: 'RESERVE', orderId: 'o1', quantity: 3 }).ledger;
    const released = applySkuRequest(held, { type: 'RELEASE', orderId: 'o1' });
    expect(released.changed).toEqual([{ sku: 'A', warehouseId: 'W1', onHand: 5, reserved: 0 }]);
    expect(applySkuRequest(released.ledger, { type: 'RELEASE', orderId: 'o1' }).changed).toEqual([]);
  });

  it('never holds more than is on hand, whatever the request sequence', () => {
    let ledger = ledgerWith('A', { W1: 60, W2: 40 });
    let held = 0;
    for (let i = 0; i < 500; i++) {
      const step = applySkuRequest(ledger, { type: 'RESERVE', orderId: `o${i}`, quantity: 1 + (i % 3) });
      ledger = step.ledger;
      if (step.reply?.ok) held += step.reply.requested;
      if (i % 7 === 0) {
        const release = applySkuRequest(ledger, { type: 'RELEASE', orderId: `o${i - 7}` });
        ledger = release.ledger;
      }
      expect(totals(ledger).available).toBeGreaterThanOrEqual(0);
    }
    expect(held).toBeGreaterThan(100);
  });
});

describe('order reservation (all lines or none)', () => {
  /** Runs the coordinator against in-memory ledgers, delivering SKU requests and replies in order. */
  function simulate(ledgers: Map<string, SkuLedger>, inputs: ReservationInput[]) {
    let record: OrderReservation | undefined;
    const outputs: ReservationStep[] = [];
    const queue: ReservationInput[] = [...inputs];
    while (queue.length) {
      const step = applyReservationInput(record, 'o1', queue.shift()!, 30_000);
      record = step.record;
      outputs.push(step);
      for (const { sku, request } of step.skuRequests) {
        const ledgerStep = applySkuRequest(ledgers.get(sku) ?? emptyLedger(sku), request as SkuRequest);
        ledgers.set(sku, ledgerStep.ledger);
        if (ledgerStep.reply) queue.push({ type: 'reply', reply: ledgerStep.reply });
      }
    }
    return { record, outputs };
  }

  const placed: ReservationInput = {
    type: 'placed',
    lines: [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 1 }, { sku: 'A', quantity: 1 }],
    placedAt: 0,
  };

  it('merges lines of the same sku', () => {
    expect(mergeLines([{ sku: 'B', quantity: 1 }, { sku: 'A', quantity: 2 }, { sku: 'A', quantity: 1 }])).toEqual([
      { sku: 'A', quantity: 3 },
      { sku: 'B', quantity: 1 },
    ]);
  });

  it('given stock for every line, reserves all of them', () => {
    const ledgers = new Map([['A', ledgerWith('A', { W1: 3 })], ['B', ledgerWith('B', { W1: 1 })]]);
    const { record, outputs } = simulate(ledgers, [placed]);
    expect(record?.state).toBe('RESERVED');
    expect(outputs.flatMap((o) => (o.reserved ? [o.reserved.items] : []))).toEqual([[{ sku: 'A', warehouseId: 'W1', quantity: 3 }, { sku: 'B', warehouseId: 'W1', quantity: 1 }]]);
    expect(totals(ledgers.get('A')!).available).toBe(0);
  });

  it('given one short line, holds nothing and names the shortage', () => {
    const ledgers = new Map([['A', ledgerWith('A', { W1: 3 })], ['B', ledgerWith('B', { W1: 0 })]]);
    const { outputs } = simulate(ledgers, [placed]);
    expect(outputs.flatMap((o) => o.short ?? [])).toEqual([{ sku: 'B', requested: 1, available: 0 }]);
    expect(totals(ledgers.get('A')!)).toMatchObject({ reserved: 0, available: 3 });
  });

  it('releases everything when the order ends after the reservation', () => {
    const ledgers = new Map([['A', ledgerWith('A', { W1: 3 })], ['B', ledgerWith('B', { W1: 1 })]]);
    const { record, outputs } = simulate(ledgers, [placed, { type: 'ended', reason: 'ORDER_CANCELLED' }]);
    expect(record).toBeUndefined();
    expect(outputs.at(-1)?.released?.reason).toBe('ORDER_CANCELLED');
    expect(totals(ledgers.get('A')!).reserved + totals(ledgers.get('B')!).reserved).toBe(0);
  });

  it('releases as soon as the replies are in when the order ended while reserving', () => {
    const ledgers = new Map([['A', ledgerWith('A', { W1: 3 })], ['B', ledgerWith('B', { W1: 1 })]]);
    let record = applyReservationInput(undefined, 'o1', placed, 30_000).record;
    record = applyReservationInput(record, 'o1', { type: 'ended', reason: 'RESERVATION_EXPIRED' }, 30_000).record;
    const { record: after, outputs } = simulate(ledgers, []);
    expect(after).toBeUndefined();
    expect(outputs).toEqual([]);
    // Deliver the replies by hand into the ended-while-reserving record.
    let step: ReservationStep | undefined;
    for (const [sku, quantity] of [['A', 3], ['B', 1]] as const) {
      const reply = applySkuRequest(ledgers.get(sku)!, { type: 'RESERVE', orderId: 'o1', quantity }).reply!;
      step = applyReservationInput(record, 'o1', { type: 'reply', reply }, 30_000);
      record = step.record;
    }
    expect(step?.released?.reason).toBe('RESERVATION_EXPIRED');
    expect(step?.skuRequests.map((r) => r.request.type)).toEqual(['RELEASE', 'RELEASE']);
    expect(record).toBeUndefined();
  });

  it('ignores the order when it ended before it was seen placed', () => {
    const ledgers = new Map([['A', ledgerWith('A', { W1: 3 })], ['B', ledgerWith('B', { W1: 1 })]]);
    const { record } = simulate(ledgers, [{ type: 'ended', reason: 'ORDER_REJECTED' }, placed]);
    expect(record).toBeUndefined();
    expect(totals(ledgers.get('A')!).reserved).toBe(0);
  });

  it('does not reserve twice when the order is delivered twice', () => {
    const ledgers = new Map([['A', ledgerWith('A', { W1: 9 })], ['B', ledgerWith('B', { W1: 9 })]]);
    const { outputs } = simulate(ledgers, [placed, placed]);
    expect(outputs.filter((o) => o.reserved)).toHaveLength(1);
    expect(totals(ledgers.get('A')!).reserved).toBe(3);
  });
});
