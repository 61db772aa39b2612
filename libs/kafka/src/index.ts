export { createKafkaClient } from './kafka-client';
export { kafkaDefaults } from './kafka-defaults';
export { applyTopics } from './topic-admin';
export type { TopicSpec, TopicChange } from './topic-admin';
