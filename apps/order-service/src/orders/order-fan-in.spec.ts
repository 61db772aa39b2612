import { applyOrderInput, expireOrder, type FanInSettings, type OrderInput, type OrderRecord, type Transition } from './order-fan-in';

const settings: FanInSettings = { validationTimeoutMs: 10_000, cancelWindowMs: 60_000, retentionMs: 3_600_000 };
const T0 = Date.UTC(2026, 0, 1);

const placed: OrderInput = { type: 'placed', facts: { customerId: 'c1', currency: 'EUR', grandTotal: '25.00', placedAt: T0 } };
const reserved: OrderInput = { type: 'stock', verdict: { ok: true, reservationId: 'res-o1' } };
const short: OrderInput = { type: 'stock', verdict: { ok: false, shortages: [{ sku: 'A', requested: 3, available: 1 }] } };
const approve: OrderInput = { type: 'fraud', verdict: { decision: 'APPROVE', score: 5, ruleIds: [] } };
const review: OrderInput = { type: 'fraud', verdict: { decision: 'REVIEW', score: 60, ruleIds: ['GEO_MISMATCH'] } };
const decline: OrderInput = { type: 'fraud', verdict: { decision: 'DECLINE', score: 95, ruleIds: ['GEO_MISMATCH', 'FIRST_ORDER_HIGH_VALUE'] } };
const cancel: OrderInput = { type: 'cancel', commandId: 'cmd-c', reason: 'changed my mind' };
const reviewApprove: OrderInput = { type: 'review', commandId: 'cmd-r', decision: 'APPROVE' };
const reviewDecline: OrderInput = { type: 'review', commandId: 'cmd-r', decision: 'DECLINE' };

/** Runs inputs in order (1 ms apart) and collects every final event published. */
function run(inputs: OrderInput[], start?: OrderRecord): { record: OrderRecord | undefined; finals: Transition['final'][] } {
  let record = start;
  const finals: Transition['final'][] = [];
  inputs.forEach((input, i) => {
    const t = applyOrderInput(record, 'o1', input, T0 + i + 1, settings);
    record = t.record;
    if (t.final) finals.push(t.final);
  });
  return { record, finals };
}

describe('order fan-in', () => {
  it.each([
    ['stock reserved and fraud approves', [placed, reserved, approve], 'CONFIRMED', []],
    ['verdicts before the order itself', [approve, reserved, placed], 'CONFIRMED', []],
    ['out of stock', [placed, short, approve], 'REJECTED', ['OUT_OF_STOCK']],
    ['fraud declines', [placed, reserved, decline], 'REJECTED', ['FRAUD_DECLINED']],
    ['both fail: every reason', [placed, decline, short], 'REJECTED', ['OUT_OF_STOCK', 'FRAUD_DECLINED']],
    ['review with stock short: rejected with both', [placed, review, short], 'REJECTED', ['OUT_OF_STOCK', 'FRAUD_REVIEW']],
    ['review parks the order', [placed, reserved, review], 'REVIEW', []],
    ['review approved', [placed, reserved, review, reviewApprove], 'CONFIRMED', []],
    ['review declined', [placed, reserved, review, reviewDecline], 'REJECTED', ['FRAUD_DECLINED']],
    ['cancel while pending', [placed, cancel, reserved, approve], 'CANCELLED', ['CANCELLED']],
    ['cancel while in review', [placed, reserved, review, cancel], 'CANCELLED', ['CANCELLED']],
    ['cancel before the order arrives', [cancel, placed, reserved, approve], 'CANCELLED', ['CANCELLED']],
    ['cancel after confirmation, inside the window', [placed, reserved, approve, cancel], 'CANCELLED', ['CANCELLED']],
    ['cancel after rejection is refused', [placed, short, approve, cancel], 'REJECTED', ['OUT_OF_STOCK']],
  ] as [string, OrderInput[], string, string[]][])('given %s, the order ends as expected and each final event is published once', (_case, inputs, status, codes) => {
    const { record, finals } = run(inputs);
    expect(record?.status).toBe(status);
    expect(record?.reasons.map((r) => r.code)).toEqual(codes);
    // A confirmed order that is cancelled inside the window publishes both, each once.
    const expected = status === 'REVIEW' ? [] : _case.startsWith('cancel after confirmation') ? ['CONFIRMED', 'CANCELLED'] : [status];
    expect(finals.map((f) => f?.kind)).toEqual(expected);
  });

  it('publishes a final state once even when verdicts and the order are delivered twice', () => {
    const { record, finals } = run([placed, reserved, approve, placed, reserved, approve, decline, short]);
    expect(record?.status).toBe('CONFIRMED');
    expect(finals).toEqual([{ kind: 'CONFIRMED', reservationId: 'res-o1', fraudScore: 5 }]);
  });

  it('refuses a review decision for an order that is not in review, and says why', () => {
    const { record, finals } = run([placed, reserved, approve, reviewDecline]);
    expect(record?.status).toBe('CONFIRMED');
    expect(finals).toHaveLength(1);
    expect(record?.commands.at(-1)).toMatchObject({ commandId: 'cmd-r', outcome: 'REFUSED' });
  });

  it('refuses a cancel after the cancel window (the order has shipped)', () => {
    const { record } = run([placed, reserved, approve]);
    const late = applyOrderInput(record, 'o1', cancel, T0 + settings.cancelWindowMs + 10, settings);
    expect(late.final).toBeUndefined();
    expect(late.record?.status).toBe('CONFIRMED');
    expect(late.record?.commands.at(-1)).toMatchObject({ outcome: 'REFUSED' });
  });

  describe('deadline', () => {
    it('rejects with TIMEOUT and the reasons known so far once the deadline passes', () => {
      const { record } = run([placed, decline]);
      expect(expireOrder(record!, T0 + settings.validationTimeoutMs - 1, settings)).toBeUndefined();
      const t = expireOrder(record!, T0 + settings.validationTimeoutMs, settings);
      expect(t?.record?.status).toBe('REJECTED');
      expect(t?.final).toEqual({ kind: 'REJECTED', reasons: t?.record?.reasons });
      expect(t?.record?.reasons.map((r) => r.code)).toEqual(['TIMEOUT', 'FRAUD_DECLINED']);
    });

    it('leaves a parked review alone: a human decides, not the clock', () => {
      const { record } = run([placed, reserved, review]);
      expect(expireOrder(record!, T0 + 10 * settings.validationTimeoutMs, settings)).toBeUndefined();
    });

    it('ignores verdicts that arrive after the timeout', () => {
      const { record } = run([placed]);
      const timedOut = expireOrder(record!, T0 + settings.validationTimeoutMs, settings)!.record;
      const { record: after, finals } = run([reserved, approve], timedOut);
      expect(after?.status).toBe('REJECTED');
      expect(finals).toHaveLength(0);
    });

    it('forgets final orders and orphans after the retention, keeps live ones', () => {
      const { record: confirmed } = run([placed, reserved, approve]);
      expect(expireOrder(confirmed!, T0 + settings.retentionMs, settings)).toBeUndefined();
      expect(expireOrder(confirmed!, T0 + 3 + settings.retentionMs, settings)).toEqual({ record: undefined, changed: false });
      const { record: orphan } = run([approve]);
      expect(expireOrder(orphan!, T0 + 1 + settings.retentionMs, settings)?.record).toBeUndefined();
    });
  });
});
