import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { CompressionTypes, type Kafka, type Producer } from 'kafkajs';
import type { RegistryCodec } from '@app/codec';
import { topics, type OrderPlaced } from '@app/contracts';
import { KAFKA, REGISTRY_CODEC } from '@app/platform';
import { ORDER_SETTINGS } from './order-tokens';
import type { OrderSettings } from './order-settings';
import { IDEMPOTENCY_HASH_HEADER, ORDER_COMMANDS_TOPIC, type OrderCommand } from './order-topics';

/** Kafka (or the registry) did not take the record in time: the caller answers 503, nothing was promised. */
export class PublishUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`publish failed (Kafka or schema registry): ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'PublishUnavailableError';
  }
}

/**
 * The HTTP side's writes: OrderPlaced (Avro, acks=all, idempotent producer) and commands to the
 * fan-in's command topic. Each is one record, so a request either published it or did not; a send
 * that timed out but did land is harmless because a retry with the same Idempotency-Key reuses the
 * order id and the fan-in keeps the first OrderPlaced per id.
 */
@Injectable()
export class OrderPublisher implements OnApplicationShutdown {
  private producer?: Promise<Producer>;

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(REGISTRY_CODEC) private readonly codec: RegistryCodec,
    @Inject(ORDER_SETTINGS) private readonly settings: OrderSettings,
  ) {}

  private connected(): Promise<Producer> {
    if (!this.producer) {
      // Idempotent, acks=all: a retried send never duplicates; the request deadline bounds the wait.
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
      this.producer = producer.connect().then(() => producer);
      this.producer.catch(() => (this.producer = undefined));
    }
    return this.producer;
  }

  /** Waits for `work` at most the publish timeout; a late or failed send is a PublishUnavailableError (503). */
  async withinDeadline<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no acknowledgement within ${this.settings.publishTimeoutMs} ms`)), this.settings.publishTimeoutMs);
    });
    try {
      return await Promise.race([work, deadline]);
    } catch (err) {
      throw err instanceof PublishUnavailableError ? err : new PublishUnavailableError(err);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves once the broker acknowledged the record (acks=all); no deadline of its own. */
  async publishPlaced(event: OrderPlaced, requestHash: string): Promise<void> {
    const value = await this.codec.encode(topics.orderPlaced.name, topics.orderPlaced.schema, event);
    const producer = await this.connected();
    await producer.send({
      topic: topics.orderPlaced.name,
      acks: -1,
      compression: CompressionTypes.None,
      messages: [{ key: event.orderId, value, headers: { [IDEMPOTENCY_HASH_HEADER]: requestHash } }],
    });
  }

  async sendCommand(command: OrderCommand): Promise<void> {
    await this.withinDeadline(
      (async () => {
        const producer = await this.connected();
        await producer.send({ topic: ORDER_COMMANDS_TOPIC, acks: -1, messages: [{ key: command.orderId, value: JSON.stringify(command) }] });
      })(),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    const producer = await this.producer?.catch(() => undefined);
    await producer?.disconnect();
  }
}
