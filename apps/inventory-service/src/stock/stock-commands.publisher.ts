import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Kafka, Producer } from 'kafkajs';
import { KAFKA } from '@app/platform';
import { SKU_REQUESTS_TOPIC, type SkuRequestMessage } from '../reservations/inventory-topics';
import type { InventorySettings } from '../reservations/inventory-settings';
import { INVENTORY_SETTINGS } from './inventory-tokens';

export class StockUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`Kafka unavailable: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'StockUnavailableError';
  }
}

/** HTTP writes go to the SKU's single writer through the request topic (keyed by sku), never to the store. */
@Injectable()
export class StockCommandsPublisher implements OnApplicationShutdown {
  private producer?: Promise<Producer>;

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(INVENTORY_SETTINGS) private readonly settings: InventorySettings,
  ) {}

  async send(request: SkuRequestMessage): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        (async () => {
          if (!this.producer) {
            const producer = this.kafka.producer({ idempotent: true });
            this.producer = producer.connect().then(() => producer);
            this.producer.catch(() => (this.producer = undefined));
          }
          const producer = await this.producer;
          await producer.send({ topic: SKU_REQUESTS_TOPIC, acks: -1, messages: [{ key: request.sku, value: JSON.stringify(request) }] });
        })(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no acknowledgement within ${this.settings.publishTimeoutMs} ms`)), this.settings.publishTimeoutMs);
        }),
      ]);
    } catch (err) {
      throw new StockUnavailableError(err);
    } finally {
      clearTimeout(timer);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    const producer = await this.producer?.catch(() => undefined);
    await producer?.disconnect();
  }
}
