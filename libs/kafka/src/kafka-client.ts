import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type KafkaConfig as KafkaJsConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { KafkaAuth, KafkaConfig } from '@app/config';
import type { Logger } from '@app/logging';
import { kafkaDefaults } from './kafka-defaults';
import { MskIamTokenProvider, mskCredentialsProvider, type AwsCredentialsProvider } from './msk-iam-token';
import { installReadCommittedFilter } from './read-committed';

/**
 * MSK IAM: OAUTHBEARER with a cached token from aws-msk-iam-sasl-signer-js. kafkajs calls the provider
 * on every (re-)authentication of every broker connection; the provider signs anew only near expiry.
 */
function mskIamSasl(provider: MskIamTokenProvider): SASLOptions {
  return {
    mechanism: 'oauthbearer',
    oauthBearerProvider: async () => ({ value: (await provider.token()).value }),
  };
}

/** kafkajs SASL options for the configured auth mode; `credentials` replaces the AWS chain in tests. */
export function saslFor(
  auth: KafkaAuth,
  deps: { credentials?: AwsCredentialsProvider; logger?: Logger } = {},
): SASLOptions | undefined {
  switch (auth.mode) {
    case 'none':
      return undefined;
    case 'scram':
      return { mechanism: 'scram-sha-512', username: auth.username, password: auth.password };
    case 'msk-iam':
      return mskIamSasl(
        new MskIamTokenProvider({
          region: auth.region,
          credentials: deps.credentials ?? mskCredentialsProvider(auth),
          onRefreshError: (err) => deps.logger?.warn('MSK IAM token refresh failed; the current token is still valid', { error: err.message }),
        }),
      );
  }
}

/** TLS options: a custom CA file (private PKI, a local TLS broker) or Node's trusted CAs. */
export function tlsFor(config: Pick<KafkaConfig, 'ssl' | 'sslCaFile'>): KafkaJsConfig['ssl'] {
  if (config.sslCaFile) return { ca: [readFileSync(config.sslCaFile, 'utf8')], rejectUnauthorized: true };
  return config.ssl;
}

const LEVEL_NAMES: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** Routes kafkajs' own log lines into the service's JSON logger. */
function logCreatorFor(logger: Logger): KafkaJsConfig['logCreator'] {
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...fields } = log;
      logger[LEVEL_NAMES[level] ?? 'info'](message, { component: 'kafkajs', ...fields });
    };
}

/** Builds the one Kafka client a process uses, with the configured auth (none, SCRAM or MSK IAM). */
export function createKafkaClient(config: KafkaConfig, logger?: Logger): Kafka {
  installReadCommittedFilter();
  return new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    ssl: tlsFor(config),
    sasl: saslFor(config.auth, { logger }),
    connectionTimeout: kafkaDefaults.connectionTimeoutMs,
    requestTimeout: kafkaDefaults.requestTimeoutMs,
    retry: { ...kafkaDefaults.retry },
    logLevel: logLevel.WARN,
    ...(logger ? { logCreator: logCreatorFor(logger) } : {}),
  });
}
