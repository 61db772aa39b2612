/**
 * Details of the Kafka client and its auth-failure handling that the behaviour specs leave open,
 * pinned down because mutation testing showed changes to them going unnoticed (issue #10). Added by
 * the mutation-testing work, beside the security helper's own specs.
 */
import type { Kafka } from 'kafkajs';
import type { Logger } from '@app/logging';
import {
  checkKafkaAuthentication,
  classifyKafkaError,
  describeKafkaPrincipal,
  KafkaAuthenticationError,
  kafkaErrorTypes,
} from './auth-failure';
import { createKafkaClient } from './kafka-client';

function recordingLogger() {
  const lines: [string, string, Record<string, unknown>][] = [];
  const at = (level: string) => (message: string, fields: Record<string, unknown> = {}) => void lines.push([level, message, fields]);
  const logger = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') } as unknown as Logger;
  return { logger, lines };
}

type KafkaInternals = {
  logger(): { error(m: string, f?: object): void; warn(m: string, f?: object): void; info(m: string, f?: object): void; debug(m: string, f?: object): void };
};

describe('createKafkaClient', () => {
  const config = { brokers: ['127.0.0.1:1'], clientId: 'svc', ssl: false, auth: { mode: 'none' as const }, authMaxAttempts: 3 };

  it("routes kafkajs' log lines into the service logger, level by level, tagged as kafkajs", () => {
    const { logger, lines } = recordingLogger();
    const kafka = createKafkaClient(config, logger) as unknown as KafkaInternals;
    const log = kafka.logger();
    log.error('broker gone', { broker: 'b1' });
    log.warn('slow');
    log.info('hello'); // below the client's WARN level: dropped
    expect(lines).toEqual([
      ['error', 'broker gone', expect.objectContaining({ component: 'kafkajs', broker: 'b1' })],
      ['warn', 'slow', expect.objectContaining({ component: 'kafkajs' })],
    ]);
  });
});

describe('classifyKafkaError', () => {
  it.each(['TOPIC_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'DELEGATION_TOKEN_AUTHORIZATION_FAILED'])(
    'reads %s as a refused operation',
    (type) => {
      expect(classifyKafkaError({ type })).toBe('authorization');
    },
  );

  it.each(['SASL_AUTHENTICATION_FAILED', 'ILLEGAL_SASL_STATE', 'UNSUPPORTED_SASL_MECHANISM'])('reads %s as a refused login', (type) => {
    expect(classifyKafkaError({ type })).toBe('authentication');
  });

  it('finds the reason nested in cause, originalError or an aggregate, and survives cycles and junk', () => {
    const nested = { name: 'KafkaJSNumberOfRetriesExceeded', originalError: { cause: { type: 'GROUP_AUTHORIZATION_FAILED' } } };
    expect(classifyKafkaError(nested)).toBe('authorization');
    expect(classifyKafkaError({ errors: [null, 'text', { type: 'SASL_AUTHENTICATION_FAILED' }] })).toBe('authentication');
    const cyclic: { cause?: unknown; type?: string } = { type: 'UNKNOWN_SERVER_ERROR' };
    cyclic.cause = cyclic;
    expect(classifyKafkaError(cyclic)).toBe('other');
    expect(kafkaErrorTypes(cyclic)).toEqual(['UNKNOWN_SERVER_ERROR']);
    expect(classifyKafkaError(undefined)).toBe('other');
    expect(kafkaErrorTypes({ errors: 'not a list' })).toEqual([]);
  });
});

describe('describeKafkaPrincipal', () => {
  it('names who logs in, never a secret', () => {
    expect(describeKafkaPrincipal({ mode: 'none' })).toBe('no authentication');
    expect(describeKafkaPrincipal({ mode: 'msk-iam', region: 'eu-west-1', sessionName: 'svc' })).toBe('MSK IAM default credentials (session "svc")');
    expect(describeKafkaPrincipal({ mode: 'msk-iam', region: 'eu-west-1', roleArn: 'arn:aws:iam::123456789012:role/r', sessionName: 'svc' })).toBe(
      'MSK IAM role arn:aws:iam::123456789012:role/r (session "svc")',
    );
  });
});

describe('KafkaAuthenticationError', () => {
  it('names principal, brokers, attempts and the reason; never retriable', () => {
    const cause = new Error('SASL refused');
    const error = new KafkaAuthenticationError('SCRAM-SHA-512 user "svc"', ['b1:9096', 'b2:9096'], 3, cause);
    expect(error.message).toBe('Kafka authentication failed for SCRAM-SHA-512 user "svc" at b1:9096,b2:9096 after 3 attempt(s): SASL refused');
    expect(error.name).toBe('KafkaAuthenticationError');
    expect(error.retriable).toBe(false);
    expect(error.cause).toBe(cause);
    expect(new KafkaAuthenticationError('p', ['b'], 1, undefined).message).toMatch(/: undefined$/);
  });
});

describe('checkKafkaAuthentication', () => {
  function kafkaFailing(errors: unknown[]) {
    let disconnects = 0;
    const kafka = {
      admin: () => ({
        connect: async () => {
          const next = errors.shift();
          if (next) throw next;
        },
        describeCluster: async () => ({}),
        disconnect: async () => {
          disconnects++;
        },
      }),
    };
    return { kafka: kafka as unknown as Kafka, disconnects: () => disconnects };
  }

  it('retries a refused login with a warning, then succeeds, disconnecting every admin', async () => {
    const { logger, lines } = recordingLogger();
    const refused = { type: 'SASL_AUTHENTICATION_FAILED', message: 'bad password' };
    const { kafka, disconnects } = kafkaFailing([refused]);
    const sleeps: number[] = [];
    const result = await checkKafkaAuthentication(kafka, {
      auth: { mode: 'scram', username: 'svc', password: 'x' },
      brokers: ['b1'],
      maxAttempts: 3,
      backoffMs: 10,
      logger,
      sleep: async (ms) => void sleeps.push(ms),
    });
    expect(result).toEqual({ ok: true });
    expect(sleeps).toEqual([10]);
    expect(disconnects()).toBe(2);
    expect(lines).toEqual([
      [
        'warn',
        'kafka authentication refused, will retry',
        { principal: 'SCRAM-SHA-512 user "svc"', attempt: 1, maxAttempts: 3, retryInMs: 10, error: 'bad password' },
      ],
    ]);
  });
});
