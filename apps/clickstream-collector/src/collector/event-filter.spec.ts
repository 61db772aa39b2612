import { exampleEvents, type ClickstreamEvent } from '@app/contracts';
import { DEFAULT_BOT_USER_AGENTS, type FilterSettings } from './collector-settings';
import { classifyUserAgent, filterEvent, hashValue } from './event-filter';

const settings = (overrides: Partial<FilterSettings> = {}): FilterSettings => ({
  dropBots: true,
  botUserAgents: DEFAULT_BOT_USER_AGENTS,
  dropFields: [],
  hashFields: [],
  hashSalt: '',
  ...overrides,
});
const event: ClickstreamEvent = { ...exampleEvents.clickstream, customerId: 'cus-1' };

describe('event filter', () => {
  it.each([
    ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'BOT'],
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/120.0 Safari/537.36', 'BOT'],
    ['curl/8.5.0', 'BOT'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148', 'MOBILE'],
    ['Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile Safari/537.36', 'MOBILE'],
    ['Mozilla/5.0 (Linux; Android 13; SM-X200) Safari/537.36', 'TABLET'],
    ['Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)', 'TABLET'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36', 'DESKTOP'],
    ['SomethingElse/1.0', 'UNKNOWN'],
  ])('classifies %s as %s', (ua, expected) => {
    expect(classifyUserAgent(ua, DEFAULT_BOT_USER_AGENTS)).toBe(expected);
  });

  it('matches configured regular expressions against the raw user agent', () => {
    expect(classifyUserAgent('Lighthouse/11', [/^Lighthouse/])).toBe('BOT');
    expect(classifyUserAgent('mylighthouse', [/^Lighthouse/])).toBe('UNKNOWN');
    expect(classifyUserAgent(undefined, DEFAULT_BOT_USER_AGENTS)).toBe('UNKNOWN');
  });

  it('drops bot events unless told to keep them', () => {
    const bot = { ...event, userAgentClass: 'BOT' as const };
    expect(filterEvent(bot, settings())).toEqual({ keep: false, reason: 'BOT_USER_AGENT' });
    expect(filterEvent(bot, settings({ dropBots: false }))).toEqual({ keep: true, event: bot });
  });

  it('nulls dropped fields and hashes named ones with the salt, without changing the input', () => {
    const out = filterEvent(event, settings({ dropFields: ['country', 'referrer'], hashFields: ['customerId', 'sessionId'], hashSalt: 's' }));
    expect(out.keep).toBe(true);
    const e = (out as { event: ClickstreamEvent }).event;
    expect(e.country).toBeNull();
    expect(e.referrer).toBeNull();
    expect(e.customerId).toBe(hashValue('cus-1', 's'));
    expect(e.customerId).toMatch(/^[0-9a-f]{64}$/);
    expect(e.sessionId).toBe(hashValue(event.sessionId, 's'));
    expect(e.correlationId).toBe(e.sessionId);
    expect(hashValue('cus-1', 's')).not.toBe(hashValue('cus-1', 't'));
    expect(event.customerId).toBe('cus-1');
  });

  it('leaves a null field null when hashing it', () => {
    const out = filterEvent({ ...event, searchQuery: null }, settings({ hashFields: ['searchQuery'] }));
    expect((out as { event: ClickstreamEvent }).event.searchQuery).toBeNull();
  });
});
