/**
 * The registry's admin endpoints the compatibility gate needs (Confluent REST API, which Apicurio,
 * Confluent and Redpanda all serve). Services use @app/codec; this is for tooling only.
 */
import { registryAuthHeaders } from '@app/codec';
import type { SchemaRegistryConfig } from '@app/config';

export type CompatibilityLevel =
  | 'NONE'
  | 'BACKWARD'
  | 'BACKWARD_TRANSITIVE'
  | 'FORWARD'
  | 'FORWARD_TRANSITIVE'
  | 'FULL'
  | 'FULL_TRANSITIVE';

export interface CompatibilityVerdict {
  compatible: boolean;
  /** True when the subject does not exist yet: nothing to be compatible with. */
  newSubject: boolean;
  messages: string[];
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

function errorCode(body: unknown): number | undefined {
  return typeof body === 'object' && body !== null ? (body as { error_code?: number }).error_code : undefined;
}

export class RegistryAdmin {
  constructor(private readonly config: SchemaRegistryConfig) {}

  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const headers = { 'Content-Type': CONTENT_TYPE, Accept: CONTENT_TYPE, ...registryAuthHeaders(this.config) };
    const res = await fetch(`${this.config.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let json: unknown = text;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      // keep the raw text for the error message
    }
    return { status: res.status, json };
  }

  private fail(what: string, res: { status: number; json: unknown }): never {
    throw new Error(`${what}: registry answered ${res.status} ${JSON.stringify(res.json)}`);
  }

  async register(subject: string, schema: string): Promise<number> {
    const res = await this.call('POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema });
    if (res.status !== 200) this.fail(`register ${subject}`, res);
    return (res.json as { id: number }).id;
  }

  async setCompatibility(subject: string, level: CompatibilityLevel): Promise<void> {
    const res = await this.call('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: level });
    if (res.status !== 200) this.fail(`set compatibility of ${subject}`, res);
  }

  async compatibility(subject: string): Promise<CompatibilityLevel | undefined> {
    const res = await this.call('GET', `/config/${encodeURIComponent(subject)}`);
    if (res.status === 404 && [40401, 40408].includes(errorCode(res.json) ?? 0)) return undefined;
    if (res.status !== 200) this.fail(`read compatibility of ${subject}`, res);
    const body = res.json as { compatibilityLevel?: CompatibilityLevel; compatibility?: CompatibilityLevel };
    return body.compatibilityLevel ?? body.compatibility;
  }

  /**
   * Asks the registry whether `schema` may be registered next under `subject`. The `/versions` form
   * checks against every version the subject's rule covers (all of them under *_TRANSITIVE), where
   * `/versions/latest` would check only the latest.
   */
  async checkCompatibility(subject: string, schema: string): Promise<CompatibilityVerdict> {
    const res = await this.call('POST', `/compatibility/subjects/${encodeURIComponent(subject)}/versions?verbose=true`, {
      schema,
    });
    // Only the registry's own "subject not found" (40401) means a new subject; any other 404 is a
    // wrong URL, which must fail the gate rather than pass it.
    if (res.status === 404 && errorCode(res.json) === 40401) return { compatible: true, newSubject: true, messages: [] };
    if (res.status === 404) this.fail(`check ${subject} (is SCHEMA_REGISTRY_URL right?)`, res);
    if (res.status === 409 || res.status === 422) {
      return { compatible: false, newSubject: false, messages: [JSON.stringify(res.json)] };
    }
    if (res.status !== 200) this.fail(`check ${subject}`, res);
    const body = res.json as { is_compatible: boolean; messages?: string[] };
    return { compatible: body.is_compatible, newSubject: false, messages: body.messages ?? [] };
  }
}
