import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Consumer, Kafka } from 'kafkajs';
import type { RegistryCodec } from '@app/codec';
import { topics, type StockLevelChanged } from '@app/contracts';
import type { Logger } from '@app/logging';
import { KAFKA, LOGGER, REGISTRY_CODEC, startInBackground } from '@app/platform';

export interface StockTotals {
  sku: string;
  onHand: number;
  reserved: number;
  available: number;
}

/**
 * Reads for GET /stock/:sku: every instance tails the compacted `inventory.stock-level.v1` (one record
 * per sku@warehouse, written only by the SKU's single writer, read_committed) into memory. Memory is
 * one entry per live SKU and warehouse.
 */
@Injectable()
export class StockLevelView implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly levels = new Map<string, Map<string, { onHand: number; reserved: number }>>();
  private readonly seen = new EventEmitter();
  private consumer?: Consumer;

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(REGISTRY_CODEC) private readonly codec: RegistryCodec,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.seen.setMaxListeners(0);
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
    void startInBackground('stock-level view', start, this.logger, () => this.closed);
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    await this.consumer?.disconnect().catch(() => undefined);
  }

  private async tail(): Promise<void> {
    const deserializer = this.codec.deserializerFor<StockLevelChanged>(topics.stockLevel.schema);
    // A group of its own per instance (nothing committed): every instance reads the whole topic.
    // These groups do not pile up: nothing is ever committed, so once the instance leaves, the broker's
    // periodic cleanup (offsets.retention.check.interval.ms, 10 min) deletes the empty, offset-less group.
    this.consumer = this.kafka.consumer({
      groupId: `inventory-service.view-${randomUUID()}`,
      readUncommitted: false,
      maxWaitTimeInMs: 100,
      // Reads must never stop for good: whatever crashed the consumer, start it again.
      retry: { restartOnFailure: async () => true },
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => this.logger.error('stock-level view consumer crashed; restarting', { error: String(payload.error) }));
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: topics.stockLevel.name, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const values = batch.messages.filter((m) => m.value).map((m) => m.value!);
        const decoded = await deserializer.decodeAll(values);
        for (const result of decoded) {
          if (!result.ok) {
            // Registry unreachable: fail the batch so kafkajs fetches it again, never skip a level.
            if (result.error.retriable) throw result.error;
            this.logger.warn('unreadable stock level', { error: result.error.message });
            continue;
          }
          this.apply(result.value);
        }
      },
    });
  }

  private apply(level: StockLevelChanged): void {
    let warehouses = this.levels.get(level.sku);
    if (!warehouses) this.levels.set(level.sku, (warehouses = new Map()));
    warehouses.set(level.warehouseId, { onHand: level.onHand, reserved: level.reserved });
    this.seen.emit(level.correlationId, level);
  }

  get(sku: string): StockTotals | undefined {
    const warehouses = this.levels.get(sku);
    if (!warehouses) return undefined;
    let onHand = 0;
    let reserved = 0;
    for (const w of warehouses.values()) {
      onHand += w.onHand;
      reserved += w.reserved;
    }
    return { sku, onHand, reserved, available: onHand - reserved };
  }

  /** Resolves when a level written for `correlationId` has been read (a PUT reads its own write). */
  waitForCorrelation(correlationId: string, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.seen.off(correlationId, listener);
        resolve(ok);
      };
      const listener = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.seen.on(correlationId, listener);
    });
  }
}
