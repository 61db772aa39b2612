import { createLogger } from './logger';

describe('createLogger', () => {
  it('writes one JSON object per line with service, level and fields', () => {
    const lines: string[] = [];
    const log = createLogger({ service: 'order-service' }, 'info', (l) => lines.push(l));
    log.info('order accepted', { orderId: 'o-1' });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({
      level: 'info',
      service: 'order-service',
      message: 'order accepted',
      orderId: 'o-1',
    });
  });

  it('drops records below the minimum level', () => {
    const lines: string[] = [];
    const log = createLogger({ service: 's' }, 'warn', (l) => lines.push(l));
    log.info('ignored');
    log.debug('ignored');
    log.warn('kept');
    expect(lines.map((l) => JSON.parse(l).message)).toEqual(['kept']);
  });

  it('serializes errors with their message and carries child fields', () => {
    const lines: string[] = [];
    const log = createLogger({ service: 's' }, 'debug', (l) => lines.push(l)).child({ topic: 't' });
    log.error('failed', { err: new Error('boom') });
    expect(JSON.parse(lines[0])).toMatchObject({ topic: 't', err: { name: 'Error', message: 'boom' } });
  });
});
