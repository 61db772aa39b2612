import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Consumer, Kafka } from 'kafkajs';
import { applyTopics } from '@app/kafka';
import type { Logger } from '@app/logging';
import { KAFKA, LOGGER, startInBackground } from '@app/platform';
import { isFinal, type OrderView } from './order-fan-in';
import { ORDER_PARTITIONS, ORDER_STATE_CONFIGS, ORDER_STATE_TOPIC } from './order-topics';

/**
 * Shared state for reads: every order-service instance tails the compacted order-state topic (written
 * only by the fan-in, in its transactions; read_committed) into memory, so any instance answers
 * GET /orders/:id for any order without routing to the partition owner. The price is a short lag
 * (one commit) between the fan-in deciding and a read seeing it; long-polls wait that lag out.
 */
@Injectable()
export class OrderStateView implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly orders = new Map<string, OrderView>();
  private readonly changes = new EventEmitter();
  private consumer?: Consumer;

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.changes.setMaxListeners(0);
  }

  private closed = false;

  /** Starts tailing in the background: the HTTP port must open even while the broker is down. */
  onApplicationBootstrap(): void {
    // A failed start leaves no half-connected consumer behind before the next attempt.
    const start = () =>
      this.tail().catch(async (err: unknown) => {
        await this.consumer?.disconnect().catch(() => undefined);
        throw err;
      });
    void startInBackground('order-state view', start, this.logger, () => this.closed);
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    await this.consumer?.disconnect().catch(() => undefined);
  }

  private async tail(): Promise<void> {
    // Nest runs bootstrap hooks before the Kafka transport creates its internal topics: make sure ours exists.
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      if (!existing.has(ORDER_STATE_TOPIC)) {
        await applyTopics(admin, [{ name: ORDER_STATE_TOPIC, partitions: ORDER_PARTITIONS, configs: ORDER_STATE_CONFIGS }]);
      }
    } finally {
      await admin.disconnect();
    }
    // A group of its own per instance (nothing committed): every instance reads the whole topic.
    // These groups do not pile up: nothing is ever committed, so once the instance leaves, the broker's
    // periodic cleanup (offsets.retention.check.interval.ms, 10 min) deletes the empty, offset-less group.
    this.consumer = this.kafka.consumer({
      groupId: `order-service.view-${randomUUID()}`,
      readUncommitted: false,
      maxWaitTimeInMs: 100,
      // Reads must never stop for good: whatever crashed the consumer, start it again.
      retry: { restartOnFailure: async () => true },
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => this.logger.error('order-state view consumer crashed; restarting', { error: String(payload.error) }));
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: ORDER_STATE_TOPIC, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          const orderId = message.key?.toString();
          if (!orderId) continue;
          try {
            const view = message.value ? (JSON.parse(message.value.toString()) as OrderView | null) : null;
            // null: the fan-in forgot the order (ORDER_RETENTION_MS after it ended).
            if (view === null) this.orders.delete(orderId);
            else this.apply(view);
          } catch (err) {
            this.logger.warn('unreadable order-state record', { orderId, error: String(err) });
          }
        }
      },
    });
  }

  /** Adds or replaces an order; also used right after a POST so this instance reads its own write at once. */
  apply(view: OrderView): void {
    const known = this.orders.get(view.orderId);
    // The provisional PENDING from a POST must not hide a later state that arrived first.
    if (known && known.status !== 'PENDING' && view.status === 'PENDING' && !view.customerId) return;
    this.orders.set(view.orderId, view);
    this.changes.emit(view.orderId, view);
  }

  get(orderId: string): OrderView | undefined {
    return this.orders.get(orderId);
  }

  /** Resolves with the order once `until` holds for it, or with whatever is known when the time is up. */
  waitFor(orderId: string, until: (view: OrderView) => boolean, timeoutMs: number): Promise<OrderView | undefined> {
    const now = this.orders.get(orderId);
    if (now && until(now)) return Promise.resolve(now);
    return new Promise((resolve) => {
      const listener = (view: OrderView) => {
        if (!until(view)) return;
        clearTimeout(timer);
        this.changes.off(orderId, listener);
        resolve(view);
      };
      const timer = setTimeout(() => {
        this.changes.off(orderId, listener);
        resolve(this.orders.get(orderId));
      }, timeoutMs);
      this.changes.on(orderId, listener);
    });
  }

  waitForFinal(orderId: string, timeoutMs: number): Promise<OrderView | undefined> {
    return this.waitFor(orderId, (view) => isFinal(view.status), timeoutMs);
  }
}
