import { createHash } from 'node:crypto';
import type { Kafka, Producer } from 'kafkajs';
import type { RegistryCodec } from '@app/codec';
import { topics, type PartnerFileReceived } from '@app/contracts';
import type { PartnerFileStored } from './partner-sftp-server';

export const PARTNER_SFTP_SERVICE = 'partner-sftp';

/**
 * Publishes `partners.file-received.v1` (Avro through the registry codec, keyed by partner, idempotent,
 * acks=all). The event id is the stored object's key plus its digest: a retried CLOSE of the same bytes
 * announces the same event, which consumers deduplicate.
 */
export class KafkaPartnerFileAnnouncer {
  private producer?: Promise<Producer>;

  constructor(
    private readonly kafka: Kafka,
    private readonly codec: RegistryCodec,
    readonly topic: string = topics.partnerFileReceived.name,
  ) {}

  async announce(file: PartnerFileStored): Promise<void> {
    const event: PartnerFileReceived = {
      eventId: uuidFrom(`${file.lakeKey}\n${file.sha256}`),
      occurredAt: file.storedAt,
      producer: PARTNER_SFTP_SERVICE,
      correlationId: file.sessionId,
      partner: file.partner,
      fileName: file.fileName,
      lakeKey: file.lakeKey,
      sizeBytes: file.sizeBytes,
      sha256: file.sha256,
    };
    const value = await this.codec.encode(this.topic, topics.partnerFileReceived.schema, event);
    if (!this.producer) {
      const producer = this.kafka.producer({ idempotent: true });
      this.producer = producer.connect().then(() => producer);
      this.producer.catch(() => (this.producer = undefined));
    }
    await (await this.producer).send({ topic: this.topic, acks: -1, messages: [{ key: file.partner, value }] });
  }

  async close(): Promise<void> {
    const producer = await this.producer?.catch(() => undefined);
    await producer?.disconnect();
    this.producer = undefined;
  }
}

function uuidFrom(input: string): string {
  const hex = createHash('sha256').update(input).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
