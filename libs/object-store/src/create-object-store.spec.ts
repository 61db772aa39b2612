import { parseLakeUrl } from './create-object-store';

describe('parseLakeUrl', () => {
  it.each([
    ['s3://securecart-lake/', { kind: 's3', bucket: 'securecart-lake', prefix: '' }],
    ['s3://securecart-lake', { kind: 's3', bucket: 'securecart-lake', prefix: '' }],
    ['s3://lake/env/prod', { kind: 's3', bucket: 'lake', prefix: 'env/prod/' }],
    ['file:///tmp/lake', { kind: 'file', url: 'file:///tmp/lake' }],
  ])('reads %s', (url, expected) => {
    expect(parseLakeUrl(url)).toEqual(expected);
  });

  it.each(['http://x/y', 'file://host/tmp', 's3://Bad_Bucket/', 'not a url'])('rejects %s', (url) => {
    expect(() => parseLakeUrl(url)).toThrow();
  });
});
