import { waitFor } from '@app/testing';
import type { PlannedOrder } from './order-model';

/** What a client saw for one order: its id and final state, plus anything unexpected on the way. */
export interface Observed {
  order: PlannedOrder;
  orderId: string;
  status: string;
  reasons: string[];
  problems: string[];
}

const FINAL = new Set(['CONFIRMED', 'REJECTED', 'CANCELLED']);

export interface Endpoints {
  orders: () => string;
}

async function postOrder(base: string, order: PlannedOrder, body: object = order.body): Promise<{ status: number; orderId?: string; replayed: boolean; text: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'idempotency-key': order.idempotencyKey };
  if (order.clientCountry) headers['x-client-country'] = order.clientCountry;
  // A 503 (Kafka briefly unavailable) is answered by retrying with the same key, as clients are told to.
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${base}/orders`, { method: 'POST', headers, body: JSON.stringify(body) });
    const text = await res.text();
    if (res.status === 503 && attempt < 10) {
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    const orderId = res.status === 202 ? (JSON.parse(text) as { orderId: string }).orderId : undefined;
    return { status: res.status, orderId, replayed: res.headers.get('idempotent-replayed') === 'true', text };
  }
}

async function getOrder(base: string, orderId: string, wait: boolean): Promise<{ status: string; reasons: { code: string }[] } | undefined> {
  const res = await fetch(`${base}/orders/${orderId}${wait ? '?waitForFinal=true&timeoutMs=20000' : ''}`);
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`GET /orders/${orderId}: ${res.status}`);
  return (await res.json()) as { status: string; reasons: { code: string }[] };
}

async function command(base: string, orderId: string, path: 'review' | 'cancel', body: object): Promise<number> {
  const res = await fetch(`${base}/orders/${orderId}/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.text();
  return res.status;
}

/** Places one order as a client would (retries, cancel, review included) and follows it to its final state. */
export async function driveOrder(endpoints: Endpoints, order: PlannedOrder, finalTimeoutMs: number, onAccepted?: () => void): Promise<Observed> {
  const problems: string[] = [];
  const placed = await postOrder(endpoints.orders(), order);
  if (placed.status !== 202 || !placed.orderId) {
    return { order, orderId: '', status: 'NOT_PLACED', reasons: [], problems: [`POST ${placed.status}: ${placed.text.slice(0, 200)}`] };
  }
  const orderId = placed.orderId;
  onAccepted?.();
  if (order.retried) {
    const again = await Promise.all([postOrder(endpoints.orders(), order), postOrder(endpoints.orders(), order)]);
    again.push(await postOrder(endpoints.orders(), order));
    for (const r of again) {
      if (r.status !== 202 || r.orderId !== orderId || !r.replayed) problems.push(`retry answered ${r.status} ${r.orderId} replayed=${r.replayed}`);
    }
  }
  if (order.conflictingRetry) {
    const other = await postOrder(endpoints.orders(), order, { ...order.body, currency: 'USD' });
    if (other.status !== 409) problems.push(`retry with another body answered ${other.status}, expected 409`);
  }
  if (order.cancel) {
    const status = await command(endpoints.orders(), orderId, 'cancel', { reason: 'test cancels' });
    if (status !== 202) problems.push(`cancel answered ${status}`);
  }
  if (order.review) {
    const inReview = await waitFor(async () => {
      const view = await getOrder(endpoints.orders(), orderId, false);
      return view && (view.status === 'REVIEW' || FINAL.has(view.status)) ? view : undefined;
    }, { timeoutMs: finalTimeoutMs, intervalMs: 200, what: `order ${orderId} in REVIEW` }).catch((err: Error) => ({ status: err.message }));
    if (inReview.status === 'REVIEW') {
      const status = await command(endpoints.orders(), orderId, 'review', { decision: order.review });
      if (status !== 202) problems.push(`review answered ${status}`);
    } else {
      problems.push(`expected REVIEW, saw ${inReview.status}`);
    }
  }
  // CONFIRMED is final but a cancel inside the window still turns it CANCELLED: a cancelling client waits for that.
  const done = (status: string) => (order.cancel ? status === 'CANCELLED' || status === 'REJECTED' : FINAL.has(status));
  let last: Awaited<ReturnType<typeof getOrder>>;
  try {
    const final = await waitFor(async () => {
      last = await getOrder(endpoints.orders(), orderId, !order.cancel);
      return last && done(last.status) ? last : undefined;
    }, { timeoutMs: finalTimeoutMs, intervalMs: order.cancel ? 200 : 50, what: `order ${orderId} final` });
    return { order, orderId, status: final.status, reasons: final.reasons.map((r) => r.code).sort(), problems };
  } catch (err) {
    problems.push(`${(err as Error).message}; last seen ${JSON.stringify(last)}`);
    return { order, orderId, status: last?.status ?? 'UNKNOWN', reasons: [], problems };
  }
}

/** Runs `work` over `items` with at most `concurrency` in flight. */
export async function pool<T, R>(items: T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  });
  await Promise.all(workers);
  return results;
}
