/**
 * The reader schema an hour is compacted with: the newest version of the topic's value schema. The
 * registry's latest for `<topic>-value` wins (a team may have shipped v2 before this service was
 * redeployed); a subject the registry does not know falls back to the catalog's schema.
 */
import { avroSchema, registryAuthHeaders, RegistryUnavailableError, valueSubject } from '@app/codec';
import type { SchemaRegistryConfig } from '@app/config';
import { topicByName } from '@app/contracts';
import type { ReaderSchema } from './compaction';

/** A topic neither the registry nor the catalog knows: nothing to read its rows with. */
export class UnknownTopicSchemaError extends Error {
  readonly retriable = false;
  constructor(readonly topic: string) {
    super(`no schema for ${topic}: subject ${valueSubject(topic)} is not in the registry and the topic is not in the catalog`);
    this.name = 'UnknownTopicSchemaError';
  }
}

/** Latest value schema of the topic from the registry, else the catalog's. */
export async function latestReaderSchema(topic: string, registry: SchemaRegistryConfig): Promise<ReaderSchema> {
  const url = `${registry.url.replace(/\/+$/, '')}/subjects/${encodeURIComponent(valueSubject(topic))}/versions/latest`;
  let response: Response;
  try {
    response = await fetch(url, { headers: { Accept: 'application/json', ...registryAuthHeaders(registry) }, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new RegistryUnavailableError(`registry unreachable at ${registry.url}: ${(err as Error).message}`, err);
  }
  if (response.ok) {
    const body = (await response.json()) as { id: number; schema: string; schemaType?: string };
    if (body.schemaType && body.schemaType !== 'AVRO') throw new Error(`${valueSubject(topic)} is ${body.schemaType}, not Avro`);
    return { schema: avroSchema(body.schema), schemaId: body.id };
  }
  const text = await response.text();
  // Only the registry's own "subject not found" (40401) means "not registered"; any other 404 is a wrong URL.
  if (response.status === 404 && /"error_code"\s*:\s*4040[12]|not found/i.test(text) && /subject|version/i.test(text)) {
    const definition = topicByName(topic);
    if (!definition) throw new UnknownTopicSchemaError(topic);
    return { schema: definition.schema };
  }
  throw new RegistryUnavailableError(`registry answered ${response.status} for ${url}: ${text.slice(0, 200)}`);
}
