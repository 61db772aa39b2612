export { createKafkaClient } from './kafka-client';
export { kafkaDefaults } from './kafka-defaults';
