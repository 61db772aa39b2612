/**
 * The registry's admin endpoints the compatibility gate needs (Confluent REST API, which Apicurio,
 * Confluent and Redpanda all serve). Services use @app/codec; this is for tooling only.
 */
import { registryAuthHeaders, valueSubject } from '@app/codec';
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

/** The URL without credentials, for messages. */
function redactedUrl(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString().replace(/\/$/, '');
}

/**
 * The subject of a catalog topic's values. SCHEMAS_SUBJECT_PREFIX (tests only) moves the tooling to
 * subjects of its own, so a test run depends on nothing earlier runs left in the registry's store.
 */
export function subjectOf(topic: string, env: NodeJS.ProcessEnv = process.env): string {
  return `${env.SCHEMAS_SUBJECT_PREFIX ?? ''}${valueSubject(topic)}`;
}

export class RegistryAdmin {
  constructor(private readonly config: SchemaRegistryConfig) {}

  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const headers = { 'Content-Type': CONTENT_TYPE, Accept: CONTENT_TYPE, ...registryAuthHeaders(this.config) };
    let res: Response;
    try {
      res = await fetch(`${this.config.url}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      // fetch only says "fetch failed": name the registry and the cause (refused, unknown host, timeout).
      const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
      throw new Error(`registry ${redactedUrl(this.config.url)} unreachable (${cause?.code ?? cause?.message ?? (err as Error).message}); is SCHEMA_REGISTRY_URL right?`);
    }
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
    // A 404 that is not one of the registry's own codes comes from a URL that is not the registry's API.
    const hint = res.status === 404 && errorCode(res.json) === undefined ? ` (is SCHEMA_REGISTRY_URL ${redactedUrl(this.config.url)} right?)` : '';
    throw new Error(`${what}: registry answered ${res.status} ${JSON.stringify(res.json)}${hint}`);
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
    if (res.status === 404) this.fail(`check ${subject}`, res);
    if (res.status === 409 || res.status === 422) {
      return { compatible: false, newSubject: false, messages: [JSON.stringify(res.json)] };
    }
    if (res.status !== 200) this.fail(`check ${subject}`, res);
    const body = res.json as { is_compatible: boolean; messages?: string[] };
    return { compatible: body.is_compatible, newSubject: false, messages: body.messages ?? [] };
  }
}
