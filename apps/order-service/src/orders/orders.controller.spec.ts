import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { LOGGER } from '@app/platform';
import { configureOrderHttp } from '../http-setup';
import { OrderPublisher, PublishUnavailableError } from './order-publisher';
import { OrderStateView } from './order-state.view';
import { OrdersController } from './orders.controller';
import { OrdersService } from './orders.service';

/** The HTTP side with Kafka replaced: what clients get when the broker does or does not acknowledge. */
describe('OrdersController', () => {
  let app: INestApplication;
  let base: string;
  /** The shared view without its Kafka consumer: only what this instance applies itself. */
  class LocalView extends OrderStateView {
    override async onApplicationBootstrap(): Promise<void> {}
    override async onApplicationShutdown(): Promise<void> {}
  }
  const view = new LocalView(undefined as never, undefined as never);
  const publisher = { acknowledges: true, sent: 0 };
  const warnings: Array<{ message: string; fields?: Record<string, unknown> }> = [];
  const logger = { warn: (message: string, fields?: Record<string, unknown>) => warnings.push({ message, fields }) };

  beforeAll(async () => {
    const fakePublisher: Partial<OrderPublisher> = {
      publishPlaced: async () => {
        publisher.sent++;
        if (!publisher.acknowledges) throw new Error('broker down');
      },
      withinDeadline: async <T>(work: Promise<T>) => {
        try {
          return await work;
        } catch (err) {
          throw new PublishUnavailableError(err);
        }
      },
    };
    const moduleRef = await Test.createTestingModule({
      controllers: [OrdersController],
      providers: [OrdersService, { provide: OrderPublisher, useValue: fakePublisher }, { provide: OrderStateView, useValue: view }, { provide: LOGGER, useValue: logger }],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    configureOrderHttp(app);
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });

  afterAll(async () => {
    await app.close();
  });

  const body = {
    customerId: 'c1',
    currency: 'EUR',
    items: [{ sku: 'A', quantity: 2, unitPrice: '12.50' }, { sku: 'B', quantity: 1, unitPrice: '0.99' }],
    shippingTotal: '4.90',
    shippingCountry: 'DE',
    billingCountry: 'DE',
    payment: { type: 'CARD', fingerprint: 'fp' },
    channel: 'WEB',
  };
  const post = (headers: Record<string, string>) =>
    fetch(`${base}/orders`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('answers 503 with Retry-After when Kafka does not acknowledge, and remembers nothing of the order', async () => {
    publisher.acknowledges = false;
    const res = await post({ 'idempotency-key': 'k-503' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('2');
    // The operator sees why; the client only that it may retry.
    expect(warnings).toEqual([{ message: 'order not accepted: OrderPlaced was not acknowledged', fields: { error: expect.stringContaining('broker down') } }]);
    expect(await res.text()).not.toContain('broker down');
    const accepted = await post({ 'idempotency-key': 'k-503' });
    // The retry publishes again (nothing was acknowledged the first time): not a replay.
    expect(accepted.status).toBe(503);
    expect(publisher.sent).toBe(2);
  });

  it('answers 202 PENDING once acknowledged; the same key replays without publishing', async () => {
    publisher.acknowledges = true;
    publisher.sent = 0;
    const first = await post({ 'idempotency-key': 'k-ok' });
    expect(first.status).toBe(202);
    const { orderId, status } = (await first.json()) as { orderId: string; status: string };
    expect(status).toBe('PENDING');
    const again = await post({ 'idempotency-key': 'k-ok' });
    expect(((await again.json()) as { orderId: string }).orderId).toBe(orderId);
    expect(publisher.sent).toBe(1);
    const read = (await (await fetch(`${base}/orders/${orderId}`)).json()) as Record<string, unknown>;
    expect(read).toMatchObject({ orderId, status: 'PENDING' });
    expect(read).not.toHaveProperty('requestHash');
  });
});
