import type { StateStore } from './handler';

const DELETED = Symbol('deleted');
type Pending<V> = V | typeof DELETED;

/**
 * One task's copy of a named store: committed entries (what the changelog holds), the writes of the
 * transaction in progress, and the writes of the record being handled. A record that fails is rolled
 * back alone; a transaction that aborts is rolled back whole, so memory never runs ahead of Kafka.
 * Memory is bounded by live keys: a delete removes the entry and writes a tombstone.
 */
export class TaskStore<V = unknown> implements StateStore<V> {
  private readonly committed = new Map<string, V>();
  private readonly inTransaction = new Map<string, Pending<V>>();
  private readonly inRecord = new Map<string, Pending<V>>();

  constructor(
    readonly name: string,
    readonly changelogTopic: string,
    readonly task: number,
  ) {}

  get size(): number {
    return this.committed.size;
  }

  get(key: string): V | undefined {
    const pending = this.inRecord.has(key) ? this.inRecord.get(key) : this.inTransaction.get(key);
    if (pending === DELETED) return undefined;
    if (pending !== undefined) return pending;
    return this.committed.get(key);
  }

  put(key: string, value: V): void {
    if (value === undefined || value === null) throw new TypeError(`store ${this.name}: use delete() instead of put(${key}, ${String(value)})`);
    this.inRecord.set(key, value);
  }

  delete(key: string): void {
    this.inRecord.set(key, DELETED);
  }

  *entries(): IterableIterator<[string, V]> {
    for (const [key, value] of this.committed) {
      if (this.inRecord.has(key) || this.inTransaction.has(key)) continue;
      yield [key, value];
    }
    for (const [key] of this.inTransaction) {
      if (this.inRecord.has(key)) continue;
      const value = this.get(key);
      if (value !== undefined) yield [key, value];
    }
    for (const [key] of this.inRecord) {
      const value = this.get(key);
      if (value !== undefined) yield [key, value];
    }
  }

  /** Restoring from the changelog: `null` is a tombstone. */
  restore(key: string, value: V | null): void {
    if (value === null) this.committed.delete(key);
    else this.committed.set(key, value);
  }

  keepRecord(): void {
    for (const [key, value] of this.inRecord) this.inTransaction.set(key, value);
    this.inRecord.clear();
  }

  dropRecord(): void {
    this.inRecord.clear();
  }

  /** The transaction's writes as changelog records (last write per key wins; tombstones for deletes). */
  changelogWrites(): Array<{ key: string; value: V | null }> {
    return [...this.inTransaction].map(([key, value]) => ({ key, value: value === DELETED ? null : value }));
  }

  /** The transaction committed: its writes become the committed state. */
  applyTransaction(): void {
    for (const [key, value] of this.inTransaction) {
      if (value === DELETED) this.committed.delete(key);
      else this.committed.set(key, value);
    }
    this.inTransaction.clear();
  }

  dropTransaction(): void {
    this.inTransaction.clear();
    this.inRecord.clear();
  }
}
