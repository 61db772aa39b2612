export { createKafkaClient, saslFor, tlsFor } from './kafka-client';
export { kafkaDefaults } from './kafka-defaults';
export { abortedRecords, hideAbortedRecords, installReadCommittedFilter } from './read-committed';
export type { AbortedTransaction, FetchedRecord } from './read-committed';
export { applyTopics } from './topic-admin';
export type { TopicSpec, TopicChange } from './topic-admin';
export { MskIamTokenProvider, MskIamTokenError, mskCredentialsProvider } from './msk-iam-token';
export type { AwsCredentials, AwsCredentialsProvider, MskIamToken, MskTokenSigner } from './msk-iam-token';
export {
  checkKafkaAuthentication,
  classifyKafkaError,
  kafkaErrorTypes,
  describeKafkaPrincipal,
  KafkaAuthenticationError,
} from './auth-failure';
export type { AuthCheckOptions, KafkaFailureKind } from './auth-failure';
