import { existsSync } from 'node:fs';
import { z } from 'zod';

const LOOPBACK_S3 = 'http://127.0.0.1:9000';

const csv = z
  .string()
  .transform((s) => s.split(',').map((part) => part.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port')).min(1));

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = z.coerce.number().int().min(1).max(65535);

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

/**
 * Every environment variable the services read, with defaults that point at the local stack
 * (`npm run stack:up`). Names and meanings are the same for the embedded stack, Docker and AWS.
 */
export const environmentSchema = z
  .object({
    KAFKA_BROKERS: csv.default(['127.0.0.1:9092']),
    KAFKA_AUTH: z.enum(['none', 'scram', 'msk-iam']).default('none'),
    KAFKA_SSL: bool.optional(),
    KAFKA_SASL_USERNAME: optionalText,
    KAFKA_SASL_PASSWORD: optionalText,
    KAFKA_CLIENT_ID: optionalText,
    // PEM file of the CA that signed the brokers' certificates (implies TLS); unset trusts Node's CAs.
    KAFKA_SSL_CA_FILE: optionalText,
    // msk-iam: assume this role for the token's credentials, always with the same session name, so the
    // principal never changes between re-authentications (MSK rejects that).
    KAFKA_IAM_ROLE_ARN: optionalText.pipe(z.string().regex(/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/, 'not an IAM role ARN').optional()),
    KAFKA_IAM_SESSION_NAME: optionalText.pipe(z.string().regex(/^[\w+=,.@-]{2,64}$/, '2-64 characters of [A-Za-z0-9_+=,.@-]').optional()),
    // Failed authentications before the process gives up (never retried in a tight loop).
    KAFKA_AUTH_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
    SCHEMA_REGISTRY_URL: z.url().default('http://127.0.0.1:8081/apis/ccompat/v7'),
    SCHEMA_REGISTRY_USERNAME: optionalText,
    SCHEMA_REGISTRY_PASSWORD: optionalText,
    AWS_REGION: z.string().min(1).default('us-east-1'),
    // Empty means "AWS's own endpoint"; the default is the local S3 server.
    S3_ENDPOINT: z
      .union([z.literal(''), z.url()])
      .default(LOOPBACK_S3)
      .transform((v) => (v === '' ? undefined : v)),
    S3_BUCKET: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'not a valid S3 bucket name')
      .default('securecart-lake'),
    S3_FORCE_PATH_STYLE: bool.optional(),
    S3_SSE_KMS_KEY_ID: optionalText,
    S3_ACCESS_KEY_ID: optionalText,
    S3_SECRET_ACCESS_KEY: optionalText,
    HTTP_HOST: z.string().min(1).default('127.0.0.1'),
    HTTP_PORT: port.optional(),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  })
  .superRefine((env, ctx) => {
    if (env.KAFKA_AUTH === 'scram') {
      for (const key of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const) {
        if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'required when KAFKA_AUTH=scram' });
      }
    }
    if (env.KAFKA_SSL_CA_FILE && !existsSync(env.KAFKA_SSL_CA_FILE)) {
      ctx.addIssue({ code: 'custom', path: ['KAFKA_SSL_CA_FILE'], message: 'file not found' });
    }
    if (Boolean(env.S3_ACCESS_KEY_ID) !== Boolean(env.S3_SECRET_ACCESS_KEY)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.S3_ACCESS_KEY_ID ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID'],
        message: 'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are set together or not at all',
      });
    }
  });

export type Environment = z.output<typeof environmentSchema>;
