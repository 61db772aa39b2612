import type { Kafka, Producer, ProducerConfig } from 'kafkajs';

interface CoordinatorLookup {
  groupId: string;
  coordinatorType?: number;
}

interface ClusterInternals {
  findGroupCoordinator(lookup: CoordinatorLookup): Promise<{ nodeId: number }>;
  findBroker(where: { nodeId: number }): Promise<{ nodeId: number }>;
}

export interface CachingProducer {
  producer: Producer;
  /** Forget the cached coordinators (after a failed transaction: the coordinator may have moved). */
  forget(): void;
}

/**
 * A kafkajs producer that looks up its transaction and group coordinators once instead of before every
 * AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit and EndTxn (kafkajs sends a FindCoordinator each
 * time: four of the nine round trips of a transaction). It remembers the coordinator's node id and still
 * asks the cluster for that broker (a pooled connection). The runtime calls `forget()` whenever a
 * transaction fails, so a moved coordinator costs one failed transaction. Falls back to a plain producer
 * if kafkajs' internals are not where this expects them.
 */
export function producerWithCachedCoordinators(kafka: Kafka, config: ProducerConfig): CachingProducer {
  const createCluster = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  const original = createCluster ? (kafka as unknown as Record<symbol, unknown>)[createCluster] : undefined;
  if (!createCluster || typeof original !== 'function') return { producer: kafka.producer(config), forget: () => undefined };
  const nodes = new Map<string, number>();
  const shim = Object.create(kafka) as Kafka & Record<symbol, unknown>;
  shim[createCluster] = (options: unknown) => {
    const cluster = (original as (o: unknown) => ClusterInternals).call(kafka, options);
    const lookUp = cluster.findGroupCoordinator.bind(cluster);
    if (typeof lookUp !== 'function' || typeof cluster.findBroker !== 'function') return cluster;
    cluster.findGroupCoordinator = async (lookup) => {
      const key = `${lookup.coordinatorType ?? 0}:${lookup.groupId}`;
      const nodeId = nodes.get(key);
      if (nodeId !== undefined) return cluster.findBroker({ nodeId });
      const broker = await lookUp(lookup);
      if (typeof broker?.nodeId === 'number') nodes.set(key, broker.nodeId);
      return broker;
    };
    return cluster;
  };
  return { producer: kafka.producer.call(shim, config), forget: () => nodes.clear() };
}
