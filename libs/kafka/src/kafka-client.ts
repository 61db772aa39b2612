import { Kafka, logLevel, type KafkaConfig as KafkaJsConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';
import type { KafkaAuth, KafkaConfig } from '@app/config';
import type { Logger } from '@app/logging';
import { kafkaDefaults } from './kafka-defaults';

/**
 * MSK IAM: the signer turns the default AWS credential chain into a short-lived OAUTHBEARER token;
 * kafkajs calls this again when it re-authenticates near the token's expiry.
 */
function mskIamSasl(region: string): SASLOptions {
  return {
    mechanism: 'oauthbearer',
    oauthBearerProvider: async () => {
      const { token } = await generateAuthToken({ region });
      return { value: token };
    },
  };
}

export function saslFor(auth: KafkaAuth): SASLOptions | undefined {
  switch (auth.mode) {
    case 'none':
      return undefined;
    case 'scram':
      return { mechanism: 'scram-sha-512', username: auth.username, password: auth.password };
    case 'msk-iam':
      return mskIamSasl(auth.region);
  }
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
  return new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    ssl: config.ssl,
    sasl: saslFor(config.auth),
    connectionTimeout: kafkaDefaults.connectionTimeoutMs,
    requestTimeout: kafkaDefaults.requestTimeoutMs,
    retry: { ...kafkaDefaults.retry },
    logLevel: logLevel.WARN,
    ...(logger ? { logCreator: logCreatorFor(logger) } : {}),
  });
}
