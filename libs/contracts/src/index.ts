export * from './generated';
export { topics, allTopics, topicByName, DLQ_PARTITIONS, DLQ_RETENTION_MS } from './topic-catalog';
export type { TopicDefinition, TopicKey, EventOf, CleanupPolicy } from './topic-catalog';
export { topicLayout, catalogLayout } from './topic-specs';
export { exampleEvents } from './examples';
export type { TopicLayout } from './topic-specs';
