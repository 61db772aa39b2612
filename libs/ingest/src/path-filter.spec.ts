import { pathFilter } from './path-filter';

describe('pathFilter', () => {
  it('takes everything without patterns', () => {
    expect(pathFilter([], [])('any/where/x.bin')).toBe(true);
  });

  it('takes includes minus excludes; ** crosses directories, * does not', () => {
    const take = pathFilter(['**/*.csv', 'exports/*.json'], ['**/tmp/**', '**/*.partial.csv']);
    expect(take('inventory.csv')).toBe(true);
    expect(take('berlin/2026/inventory.csv')).toBe(true);
    expect(take('exports/a.json')).toBe(true);
    expect(take('exports/deep/a.json')).toBe(false);
    expect(take('berlin/tmp/inventory.csv')).toBe(false);
    expect(take('berlin/x.partial.csv')).toBe(false);
    expect(take('notes.txt')).toBe(false);
  });
});
