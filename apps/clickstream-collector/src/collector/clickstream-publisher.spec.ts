import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { Serializer, type RegistryCodec } from '@app/codec';
import { exampleEvents, topics, type ClickstreamEvent } from '@app/contracts';
import { createLogger } from '@app/logging';
import { ClickstreamPublisher, type PublishedRecord } from './clickstream-publisher';

/** A publisher whose send is captured: what the framing produced, per message, without a broker. */
class CapturingPublisher extends ClickstreamPublisher {
  sent: Buffer[] = [];
  keys: string[] = [];
  override async send(messages: { key?: Buffer | string | null; value: Buffer | string | null }[]): Promise<PublishedRecord[]> {
    this.sent.push(...messages.map((m) => Buffer.from(m.value as Buffer)));
    this.keys.push(...messages.map((m) => String(m.key)));
    return messages.map((_, i) => ({ partition: 0, offset: String(i) }));
  }
}

describe('ClickstreamPublisher framing', () => {
  const serializer = new Serializer<ClickstreamEvent>(42, topics.clickstream.schema);
  const codec = { serializerFor: async () => serializer } as unknown as RegistryCodec;
  const publisher = new CapturingPublisher({} as Kafka, codec, { topic: 't', publishTimeoutMs: 1000, logger: createLogger({ service: 't' }, 'error') });

  it('frames every record exactly as the codec serializer does, across chunk boundaries', async () => {
    // ~3,000 records of ~100-4,000 bytes: several 256 KiB chunks, records landing on their edges.
    const events: ClickstreamEvent[] = Array.from({ length: 3_000 }, (_, i) => ({
      ...exampleEvents.clickstream,
      eventId: randomUUID(),
      sessionId: `ses-${i}-${'ü'.repeat(i % 50)}`,
      searchQuery: 'q'.repeat((i * 37) % 4_000),
    }));
    const results = await publisher.publish(events);
    expect(results.every((r) => 'offset' in r)).toBe(true);
    publisher.sent.forEach((value, i) => expect(value.equals(serializer.encode(events[i]))).toBe(true));
    expect(publisher.keys).toEqual(events.map((e) => e.sessionId)); // keyed by session, framed beside the value
  });

  it('refuses a value the schema does not accept, naming the field, and frames the rest', async () => {
    publisher.sent = [];
    const bad = { ...exampleEvents.clickstream, eventType: 'SCROLL' } as unknown as ClickstreamEvent;
    const results = await publisher.publish([exampleEvents.clickstream, bad, exampleEvents.clickstream]);
    expect(results[1]).toMatchObject({ errorCode: 'InvalidEvent', errorMessage: expect.stringContaining('eventType') });
    expect(publisher.sent).toHaveLength(2);
    expect(publisher.sent[1].equals(serializer.encode(exampleEvents.clickstream))).toBe(true);
  });
});
