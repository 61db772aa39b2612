/**
 * The orders-daily tasks as Lambda handlers (the Step Functions deployment in infra/cdk): the same
 * implementations the local runner uses, configured from the function's environment (LAKE_URL, S3_*,
 * KAFKA_*, SCHEMA_REGISTRY_*, BATCH_*). Each handler takes the state's effective input and returns its
 * result; a thrown error's name (e.g. ObjectStoreUnavailableError) is what the ASL Retry/Catch match.
 */
import { loadBatchSettings, ordersDailyTasks, ORDERS_DAILY_RESOURCES, BatchCompletedPublisher } from '@app/batch';
import { loadConfig } from '@app/config';
import { topics } from '@app/contracts';
import { createKafkaClient } from '@app/kafka';
import { createObjectStore } from '@app/object-store';
import type { TaskHandler } from '@app/orchestration';

let tasks: Record<string, TaskHandler> | undefined;

/** Built once per container: clients and the producer are reused across invocations. */
function taskFor(resource: string): TaskHandler {
  if (!tasks) {
    const config = loadConfig(process.env, { service: 'daily-batch', defaultHttpPort: 0 });
    const settings = loadBatchSettings(process.env, `s3://${config.objectStore.bucket}/`);
    const kafka = createKafkaClient(config.kafka);
    const store = createObjectStore(settings.lakeUrl, config.objectStore);
    const publisher = new BatchCompletedPublisher(kafka, config.schemaRegistry, topics.batchCompleted.name, settings.autoRegisterSchema);
    tasks = ordersDailyTasks({ store, kafka, registry: config.schemaRegistry, settings, onProgress: (line) => console.log(line) }, publisher);
  }
  return tasks[resource];
}

const handler =
  (resource: string) =>
  (event: unknown, context?: { awsRequestId?: string }): Promise<unknown> =>
    taskFor(resource)(event, { executionName: context?.awsRequestId ?? 'lambda', stateName: resource, retryCount: 0 });

export const resolveDay = handler(ORDERS_DAILY_RESOURCES.resolveDay);
export const checkCompaction = handler(ORDERS_DAILY_RESOURCES.checkCompaction);
export const build = handler(ORDERS_DAILY_RESOURCES.build);
export const verify = handler(ORDERS_DAILY_RESOURCES.verify);
export const publish = handler(ORDERS_DAILY_RESOURCES.publish);
