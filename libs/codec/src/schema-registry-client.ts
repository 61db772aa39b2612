import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { SchemaRegistryConfig } from '@app/config';
import { avroTypeOptions } from './logical-types';

/** Counts the HTTP requests that actually leave for the registry (cache misses), for metrics and benchmarks. */
export class RegistryRequestCounter {
  count = 0;
}

/** Registry defaults: fail fast and let the caller's retry policy (back off, pause) take over. */
export const registryDefaults = {
  retries: 2,
  initialRetryTimeInSecs: 0.1,
  maxRetryTimeInSecs: 1,
} as const;

/** HTTP headers that authenticate to the registry (Basic auth), empty when it needs none. */
export function registryAuthHeaders(config: SchemaRegistryConfig): Record<string, string> {
  if (!config.username) return {};
  return { Authorization: 'Basic ' + Buffer.from(`${config.username}:${config.password ?? ''}`).toString('base64') };
}

/** The Confluent-compatible registry client, parsing Avro with the platform's logical types. */
export function createSchemaRegistry(
  config: SchemaRegistryConfig,
  counter: RegistryRequestCounter = new RegistryRequestCounter(),
): SchemaRegistry {
  const countRequests = () => ({
    request: <R>(request: R): R => {
      counter.count++;
      return request;
    },
  });
  return new SchemaRegistry(
    {
      host: config.url,
      clientId: 'securecart',
      auth: config.username ? { username: config.username, password: config.password ?? '' } : undefined,
      retry: {
        retries: registryDefaults.retries,
        initialRetryTimeInSecs: registryDefaults.initialRetryTimeInSecs,
        maxRetryTimeInSecs: registryDefaults.maxRetryTimeInSecs,
      },
      middlewares: [countRequests],
    },
    { [SchemaType.AVRO]: avroTypeOptions },
  );
}
