import { KafkaJSConnectionError, KafkaJSProtocolError, KafkaJSSASLAuthenticationError as SaslError, type Kafka } from 'kafkajs';
import { checkKafkaAuthentication, classifyKafkaError, KafkaAuthenticationError, kafkaErrorTypes } from './auth-failure';
import { MskIamTokenError } from './msk-iam-token';

function kafkaFailingWith(errors: Error[]) {
  let connects = 0;
  const kafka = {
    admin: () => ({
      connect: async () => {
        const err = errors[Math.min(connects, errors.length - 1)];
        connects += 1;
        if (err) throw err;
      },
      describeCluster: async () => ({}),
      disconnect: async () => undefined,
    }),
  } as unknown as Kafka;
  return { kafka, connects: () => connects };
}

// kafkajs' typings declare fewer constructor arguments than its classes take.
const KafkaJSSASLAuthenticationError = SaslError as unknown as new (message: string) => Error;
const ProtocolError = KafkaJSProtocolError as unknown as new (e: { type: string; code: number; retriable: boolean; message: string }) => Error;

const scram = { mode: 'scram' as const, username: 'fraud-service', password: 'not-this-one' };

describe('classifyKafkaError', () => {
  it('tells refused logins and refused operations from everything else, through kafkajs cause chains', () => {
    expect(classifyKafkaError(new KafkaJSSASLAuthenticationError('SASL SCRAM SHA512 authentication failed'))).toBe('authentication');
    expect(classifyKafkaError(new MskIamTokenError('no credentials'))).toBe('authentication');
    const topicDenied = new ProtocolError({ type: 'TOPIC_AUTHORIZATION_FAILED', code: 29, retriable: false, message: 'Not authorized' });
    expect(classifyKafkaError(topicDenied)).toBe('authorization');
    expect(classifyKafkaError(Object.assign(new Error('retries exhausted'), { cause: topicDenied }))).toBe('authorization');
    const noMechanism = new ProtocolError({ type: 'UNSUPPORTED_SASL_MECHANISM', code: 33, retriable: false, message: 'not supported' });
    expect(classifyKafkaError(noMechanism)).toBe('authentication');
    expect(classifyKafkaError(new KafkaJSConnectionError('Connection refused'))).toBe('other');
    expect(classifyKafkaError('weird')).toBe('other');
  });
});

describe('checkKafkaAuthentication', () => {
  it('gives up after the configured attempts with growing pauses, naming the principal and the cause, never the password', async () => {
    const { kafka, connects } = kafkaFailingWith([new KafkaJSSASLAuthenticationError('SASL SCRAM SHA512 authentication failed: invalid credentials')]);
    const pauses: number[] = [];
    const error = await checkKafkaAuthentication(kafka, {
      auth: scram,
      brokers: ['127.0.0.1:9096'],
      maxAttempts: 3,
      sleep: async (ms) => void pauses.push(ms),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaAuthenticationError);
    expect((error as Error).message).toBe(
      'Kafka authentication failed for SCRAM-SHA-512 user "fraud-service" at 127.0.0.1:9096 after 3 attempt(s): ' +
        'SASL SCRAM SHA512 authentication failed: invalid credentials',
    );
    expect((error as Error).message).not.toContain('not-this-one');
    expect(connects()).toBe(3);
    expect(pauses).toEqual([1000, 2000]);
  });

  it('passes once a retry logs in, and leaves an unreachable broker to readiness', async () => {
    const flaky = kafkaFailingWith([new KafkaJSSASLAuthenticationError('failed'), undefined as unknown as Error]);
    await expect(checkKafkaAuthentication(flaky.kafka, { auth: scram, brokers: ['b:9096'], sleep: async () => undefined })).resolves.toEqual({ ok: true });
    expect(flaky.connects()).toBe(2);
    const down = kafkaFailingWith([new KafkaJSConnectionError('Connection refused')]);
    const result = await checkKafkaAuthentication(down.kafka, { auth: scram, brokers: ['b:9096'] });
    expect(result).toMatchObject({ ok: false, error: { message: 'Connection refused' } });
    expect(down.connects()).toBe(1);
  });
});

describe('kafkaErrorTypes', () => {
  it('finds the broker codes inside kafkajs aggregate and wrapped errors', () => {
    const denied = new ProtocolError({ type: 'TOPIC_AUTHORIZATION_FAILED', code: 29, retriable: false, message: 'Not authorized' });
    const aggregate = Object.assign(new Error('Topic creation errors'), { errors: [denied] });
    expect(kafkaErrorTypes(aggregate)).toEqual(['TOPIC_AUTHORIZATION_FAILED']);
    expect(classifyKafkaError(aggregate)).toBe('authorization');
    expect(kafkaErrorTypes(new Error('plain'))).toEqual([]);
  });
});
