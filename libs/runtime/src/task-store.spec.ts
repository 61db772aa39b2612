import { TaskStore } from './task-store';

describe('TaskStore', () => {
  const store = () => new TaskStore<number>('totals', 'svc.totals-changelog', 2);

  it('keeps a record’s writes only when the record succeeds', () => {
    const s = store();
    s.put('a', 1);
    expect(s.get('a')).toBe(1);
    s.dropRecord();
    expect(s.get('a')).toBeUndefined();
    s.put('a', 2);
    s.keepRecord();
    expect(s.get('a')).toBe(2);
    expect(s.changelogWrites()).toEqual([{ key: 'a', value: 2 }]);
  });

  it('applies a committed transaction and forgets an aborted one', () => {
    const s = store();
    s.restore('a', 1);
    s.restore('b', 2);
    s.put('a', 10);
    s.delete('b');
    s.keepRecord();
    expect(s.changelogWrites()).toEqual([
      { key: 'a', value: 10 },
      { key: 'b', value: null },
    ]);
    s.dropTransaction();
    expect([...s.entries()]).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    s.put('a', 10);
    s.delete('b');
    s.keepRecord();
    s.applyTransaction();
    expect([...s.entries()]).toEqual([['a', 10]]);
    expect(s.size).toBe(1);
    expect(s.changelogWrites()).toEqual([]);
  });

  it('lists entries across committed, transaction and record layers without duplicates', () => {
    const s = store();
    s.restore('a', 1);
    s.restore('gone', 9);
    s.put('b', 2);
    s.keepRecord();
    s.put('c', 3);
    s.put('a', 4);
    s.delete('gone');
    expect(new Map(s.entries())).toEqual(new Map([['a', 4], ['b', 2], ['c', 3]]));
    expect([...s.entries()]).toHaveLength(3);
  });

  it('restores tombstones as deletes, so memory holds live keys only', () => {
    const s = store();
    s.restore('a', 1);
    s.restore('a', null);
    expect(s.size).toBe(0);
  });

  it('refuses undefined and null values (a delete is explicit)', () => {
    expect(() => store().put('a', undefined as unknown as number)).toThrow(/delete/);
  });
});
