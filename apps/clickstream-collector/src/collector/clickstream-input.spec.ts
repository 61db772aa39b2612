import { DEFAULT_BOT_USER_AGENTS } from './collector-settings';
import { checkRecord, checkRecordFully, pagePath, referrerHost, type InputContext } from './clickstream-input';

const NOW = Date.parse('2026-11-28T10:00:00Z');
const ctx: InputContext = { userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120', now: NOW, maxFutureSkewMs: 60_000, botUserAgents: DEFAULT_BOT_USER_AGENTS };
const valid = {
  eventId: '3F0C9D2E-1111-4222-8333-444455556666',
  occurredAt: '2026-11-28T09:59:00.000Z',
  eventType: 'PRODUCT_VIEW',
  sessionId: 'ses-1',
  pageUrl: 'https://shop.example/products/red-mug?utm_source=x#top',
  productSku: 'SKU-1',
  referrer: 'https://www.search.example/q?x=1',
};

describe('checkRecord', () => {
  it('builds the event: producer and correlation set, path and referrer host kept, user agent classified', () => {
    const r = checkRecord(valid, ctx);
    expect(r).toEqual({
      ok: true,
      event: {
        eventId: '3f0c9d2e-1111-4222-8333-444455556666',
        occurredAt: new Date('2026-11-28T09:59:00.000Z'),
        producer: 'clickstream-collector',
        correlationId: 'ses-1',
        eventType: 'PRODUCT_VIEW',
        sessionId: 'ses-1',
        customerId: null,
        productSku: 'SKU-1',
        searchQuery: null,
        pageUrl: '/products/red-mug',
        referrer: 'www.search.example',
        userAgentClass: 'DESKTOP',
        country: null,
      },
    });
  });

  it('takes epoch milliseconds, a per-record user agent and a declared APP class', () => {
    const r = checkRecord({ ...valid, occurredAt: NOW - 5, userAgent: 'Mozilla/5.0 (iPhone) Mobile', country: 'DE' }, ctx);
    expect(r.ok && r.event.occurredAt.getTime()).toBe(NOW - 5);
    expect(r.ok && r.event.userAgentClass).toBe('MOBILE');
    expect(r.ok && r.event.country).toBe('DE');
    expect(checkRecord({ ...valid, userAgentClass: 'APP' }, ctx)).toMatchObject({ ok: true, event: { userAgentClass: 'APP' } });
  });

  it('never lets a bot pass as a browser by declaring a class', () => {
    expect(checkRecord({ ...valid, userAgentClass: 'DESKTOP', userAgent: 'Googlebot/2.1' }, ctx)).toMatchObject({ ok: true, event: { userAgentClass: 'BOT' } });
  });

  it('names every problem of a record', () => {
    const r = checkRecord({ eventId: 'x', occurredAt: 'yesterday', eventType: 'SCROLL', sessionId: '', pageUrl: 7, country: 'de', sku: 'a' }, ctx);
    expect(r.ok).toBe(false);
    const message = (r as { errorMessage: string }).errorMessage;
    for (const part of ['unknown field(s) sku', 'eventId must be a UUID', 'occurredAt must be', 'eventType must be one of', 'sessionId must be a non-empty string', 'pageUrl must be', 'country must be']) {
      expect(message).toContain(part);
    }
    expect(r).toMatchObject({ errorCode: 'InvalidEvent' });
  });

  it('refuses events too far in the future, and type-specific fields missing', () => {
    expect(checkRecord({ ...valid, occurredAt: NOW + 120_000 }, ctx)).toMatchObject({ ok: false, errorMessage: expect.stringContaining('in the future') });
    expect(checkRecord({ ...valid, productSku: null }, ctx)).toMatchObject({ ok: false, errorMessage: 'productSku is required for PRODUCT_VIEW' });
    expect(checkRecord({ ...valid, eventType: 'SEARCH' }, ctx)).toMatchObject({ ok: false, errorMessage: 'searchQuery is required for SEARCH' });
    expect(checkRecord({ ...valid, searchQuery: 'x'.repeat(257) }, ctx)).toMatchObject({ ok: false, errorMessage: expect.stringContaining('searchQuery longer than 256') });
  });

  it.each([null, 'text', 3, [valid]])('calls %p a malformed record', (raw) => {
    expect(checkRecord(raw, ctx)).toMatchObject({ ok: false, errorCode: 'MalformedRecord' });
  });

  it('reduces URLs to what the schema keeps', () => {
    expect(pagePath('/a/b?c#d')).toBe('/a/b');
    expect(pagePath('?only')).toBe('/');
    expect(referrerHost('www.example.com')).toBe('www.example.com');
    expect(referrerHost('https://x.example:8443/p')).toBe('x.example');
  });
});

describe('checkRecord fast pass', () => {
  // Each field with values on both sides of its rule: the one-pass check must agree with the full one.
  const variants: Record<string, unknown[]> = {
    eventId: [undefined, 'x', '3f0c9d2e-1111-4222-8333-444455556666', '3F0C9D2E-1111-4222-8333-44445555666G', '3f0c9d2e11114222833344445555666600ab', 7],
    occurredAt: [undefined, NOW - 1, NOW + 120_000, 0, 1.5, '2026-11-28T09:59:00Z', '2026-11-28 09:59', '2026-13-45T99:00:00Z', 'x'],
    eventType: [undefined, 'PAGE_VIEW', 'SEARCH', 'ADD_TO_CART', 'SCROLL', 3],
    sessionId: [undefined, null, '', 's', 's'.repeat(129), 5],
    pageUrl: [undefined, '/a', '', 'p'.repeat(2049), {}],
    productSku: [undefined, null, '', 'SKU', 'k'.repeat(129)],
    searchQuery: [undefined, null, 'mug', 'q'.repeat(257), 1],
    referrer: [undefined, null, 'www.example.com', 'r'.repeat(254)],
    userAgent: [undefined, null, 'Googlebot', 'u'.repeat(1025)],
    country: [undefined, null, 'DE', 'de', 'DEU', 1],
    userAgentClass: [undefined, null, 'APP', 'UNKNOWN', 'ROBOT'],
    customerId: [undefined, null, 'c-1', 'c'.repeat(129), false],
    extra: [undefined, 1],
  };
  const fields = Object.keys(variants);

  it('agrees with the field-by-field check on every record, one or two fields changed', () => {
    let checked = 0;
    for (let a = 0; a < fields.length; a++) {
      for (let b = a; b < fields.length; b++) {
        for (const va of variants[fields[a]]) {
          for (const vb of variants[fields[b]]) {
            const record: Record<string, unknown> = { ...valid, [fields[a]]: va, [fields[b]]: vb };
            for (const k of Object.keys(record)) if (record[k] === undefined) delete record[k];
            expect([record, checkRecord(record, ctx)]).toEqual([record, checkRecordFully(record, ctx)]);
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(2_000);
  });
});
