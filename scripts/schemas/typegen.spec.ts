import { generateModule } from './typegen';

const withField = (type: unknown) =>
  JSON.stringify({ type: 'record', name: 'Thing', namespace: 'com.acme', fields: [{ name: 'v', type }] });

describe('generateModule and unions', () => {
  it('types an ordinary union as the plain union of its branches', () => {
    expect(generateModule(withField(['null', 'string', 'int']), 'x.avsc')).toContain('v: null | string | number;');
  });

  it.each([
    ['["int","long"]', ['int', 'long']],
    ['two records', [
      { type: 'record', name: 'A', fields: [{ name: 'a', type: 'int' }] },
      { type: 'record', name: 'B', fields: [{ name: 'b', type: 'int' }] },
    ]],
    ['a string and an enum', ['string', { type: 'enum', name: 'E', symbols: ['X'] }]],
    ['a map and a record', [{ type: 'map', values: 'int' }, { type: 'record', name: 'R', fields: [{ name: 'r', type: 'int' }] }]],
  ])('refuses to type an ambiguous union (%s), which the codec wraps', (_what, union) => {
    expect(() => generateModule(withField(union), 'x.avsc')).toThrow(/ambiguous union .* declare that type by hand/);
  });

  it('does not count the platform logical types, as avsc does not', () => {
    const union = ['null', { type: 'long', logicalType: 'timestamp-millis' }, 'int'];
    expect(generateModule(withField(union), 'x.avsc')).toContain('v: null | Date | number;');
  });
});
