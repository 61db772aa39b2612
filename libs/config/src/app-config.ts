import { z } from 'zod';
import { environmentSchema, type Environment } from './config.schema';

export type KafkaAuth =
  | { mode: 'none' }
  | { mode: 'scram'; username: string; password: string }
  | {
      mode: 'msk-iam';
      region: string;
      /** Assume this role (session name below) instead of using the default chain's identity directly. */
      roleArn?: string;
      /** Stable role session name: the MSK principal must not change across re-authentications. */
      sessionName: string;
    };

export interface KafkaConfig {
  brokers: string[];
  clientId: string;
  ssl: boolean;
  auth: KafkaAuth;
  /** PEM file of a custom CA for the brokers' TLS certificates (implies `ssl`). */
  sslCaFile?: string;
  /** Failed authentications before the process stops trying. */
  authMaxAttempts?: number;
}

export interface SchemaRegistryConfig {
  url: string;
  username?: string;
  password?: string;
}

export interface ObjectStoreConfig {
  region: string;
  /** Undefined means AWS's own endpoint for the region. */
  endpoint?: string;
  bucket: string;
  forcePathStyle: boolean;
  /** Undefined means the bucket's AWS-managed key (`aws/s3`). */
  kmsKeyId?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export interface AppConfig {
  service: string;
  kafka: KafkaConfig;
  schemaRegistry: SchemaRegistryConfig;
  objectStore: ObjectStoreConfig;
  http: { host: string; port: number };
  logLevel: Environment['LOG_LEVEL'];
}

export interface ServiceIdentity {
  /** Used as Kafka client id, log field and `producer` of the events it writes. */
  service: string;
  defaultHttpPort: number;
}

/** Raised at boot when the environment is invalid; its message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      'Invalid configuration:\n' + problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

// Credentials that only the local S3 server (moto or MinIO from docker-compose) accepts.
const LOCAL_S3_CREDENTIALS = { accessKeyId: 'securecart-local', secretAccessKey: 'securecart-local-secret' };

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '::1' || host === '[::1]' || host.startsWith('127.');
}

/**
 * Credentials written into a URL (`https://user:pass@registry`) move to their own fields, so the URL
 * can be logged and every client authenticates the same way.
 */
function splitUrlCredentials(raw: string): { url: string; username?: string; password?: string } {
  const url = new URL(raw);
  const username = url.username ? decodeURIComponent(url.username) : undefined;
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  url.username = '';
  url.password = '';
  return { url: url.toString().replace(/\/+$/, ''), username, password };
}

/** Reads and validates the whole configuration once; throws {@link ConfigError} naming the variables. */
export function loadConfig(env: NodeJS.ProcessEnv, identity: ServiceIdentity): AppConfig {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue: z.core.$ZodIssue) => ({
        variable: String(issue.path[0] ?? '(environment)'),
        message: issue.message,
      })),
    );
  }
  const e = parsed.data;
  const auth: KafkaAuth =
    e.KAFKA_AUTH === 'scram'
      ? { mode: 'scram', username: e.KAFKA_SASL_USERNAME!, password: e.KAFKA_SASL_PASSWORD! }
      : e.KAFKA_AUTH === 'msk-iam'
        ? {
            mode: 'msk-iam',
            region: e.AWS_REGION,
            ...(e.KAFKA_IAM_ROLE_ARN ? { roleArn: e.KAFKA_IAM_ROLE_ARN } : {}),
            sessionName: e.KAFKA_IAM_SESSION_NAME ?? identity.service,
          }
        : { mode: 'none' };
  const explicitCredentials =
    e.S3_ACCESS_KEY_ID && e.S3_SECRET_ACCESS_KEY
      ? { accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY }
      : undefined;
  const localEndpoint = e.S3_ENDPOINT !== undefined && isLoopback(e.S3_ENDPOINT);
  const registry = splitUrlCredentials(e.SCHEMA_REGISTRY_URL);
  return {
    service: identity.service,
    kafka: {
      brokers: e.KAFKA_BROKERS,
      clientId: e.KAFKA_CLIENT_ID ?? identity.service,
      // MSK's IAM listener (port 9098) is TLS-only.
      ssl: e.KAFKA_SSL ?? (e.KAFKA_AUTH === 'msk-iam' || e.KAFKA_SSL_CA_FILE !== undefined),
      auth,
      ...(e.KAFKA_SSL_CA_FILE ? { sslCaFile: e.KAFKA_SSL_CA_FILE } : {}),
      authMaxAttempts: e.KAFKA_AUTH_MAX_ATTEMPTS,
    },
    schemaRegistry: {
      url: registry.url,
      username: e.SCHEMA_REGISTRY_USERNAME ?? registry.username,
      password: e.SCHEMA_REGISTRY_PASSWORD ?? registry.password,
    },
    objectStore: {
      region: e.AWS_REGION,
      endpoint: e.S3_ENDPOINT,
      bucket: e.S3_BUCKET,
      forcePathStyle: e.S3_FORCE_PATH_STYLE ?? e.S3_ENDPOINT !== undefined,
      kmsKeyId: e.S3_SSE_KMS_KEY_ID,
      // Against AWS, the SDK's default chain (env, profile, IRSA, instance role) supplies credentials.
      credentials: explicitCredentials ?? (localEndpoint ? LOCAL_S3_CREDENTIALS : undefined),
    },
    http: { host: e.HTTP_HOST, port: e.HTTP_PORT ?? identity.defaultHttpPort },
    logLevel: e.LOG_LEVEL,
  };
}

/** The config with every secret replaced, safe to log. */
export function redactConfig(config: AppConfig): unknown {
  const auth = config.kafka.auth.mode === 'scram' ? { ...config.kafka.auth, password: '***' } : config.kafka.auth;
  return {
    ...config,
    kafka: { ...config.kafka, auth },
    schemaRegistry: { ...config.schemaRegistry, password: config.schemaRegistry.password ? '***' : undefined },
    objectStore: {
      ...config.objectStore,
      credentials: config.objectStore.credentials
        ? { accessKeyId: config.objectStore.credentials.accessKeyId, secretAccessKey: '***' }
        : undefined,
    },
  };
}
