import { createHash } from 'node:crypto';
import type { Kafka, Producer } from 'kafkajs';
import { ingestDefaults } from './ingest-defaults';
import type { SetOnHandCommand, StockCountSink } from './inventory-csv';

/**
 * Publishes counts to inventory-service's SKU request topic (JSON, keyed by SKU: each SKU's single
 * writer applies them in order), exactly what its `PUT /stock/:sku` sends. Idempotent producer, acks=all.
 */
export class KafkaStockCountSink implements StockCountSink {
  private producer?: Promise<Producer>;

  constructor(
    private readonly kafka: Kafka,
    readonly topic: string = ingestDefaults.stockCountTopic,
  ) {}

  async publish(commands: readonly SetOnHandCommand[]): Promise<void> {
    if (commands.length === 0) return;
    if (!this.producer) {
      const producer = this.kafka.producer({ idempotent: true });
      this.producer = producer.connect().then(() => producer);
      this.producer.catch(() => (this.producer = undefined));
    }
    const producer = await this.producer;
    for (let i = 0; i < commands.length; i += ingestDefaults.stockCountBatch) {
      const batch = commands.slice(i, i + ingestDefaults.stockCountBatch);
      await producer.send({ topic: this.topic, acks: -1, messages: batch.map((c) => ({ key: c.sku, value: JSON.stringify(c) })) });
    }
  }

  async close(): Promise<void> {
    const producer = await this.producer?.catch(() => undefined);
    await producer?.disconnect();
    this.producer = undefined;
  }
}

/** Same file content and line, same request id: a re-run after a crash sends the same commands. */
export function stockCountRequestId(source: string, relativePath: string, sha256: string, line: number): string {
  const hex = createHash('sha256').update(`${source}\n${relativePath}\n${sha256}\n${line}`).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
