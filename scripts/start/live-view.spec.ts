import { clickstreamSnapshot, filesSnapshot, percentile, renderView, sumByLabel, sumMatching, sumSamples } from './live-view';

describe('live view', () => {
  const scrape = [
    '# HELP runtime_records_dlq_total records sent to a DLQ',
    '# TYPE runtime_records_dlq_total counter',
    'runtime_records_dlq_total{service="order-service",topic="a"} 2',
    'runtime_records_dlq_total{service="order-service",topic="b"} 3',
    'runtime_records_in_total 7',
    'runtime_handler_seconds_bucket{le="0.1"} 9',
  ].join('\n');

  it('sums every sample of a metric across labels, ignoring comments', () => {
    const sums = sumSamples(scrape);
    expect(sums.get('runtime_records_dlq_total')).toBe(5);
    expect(sums.get('runtime_records_in_total')).toBe(7);
  });

  it('counts only counters (_total) whose name matches', () => {
    const sums = sumSamples(scrape);
    expect(sumMatching(sums, /dlq/)).toBe(5);
    expect(sumMatching(sums, /handler/)).toBe(0);
  });

  it('computes percentiles by rank, undefined when empty', () => {
    expect(percentile([], 50)).toBeUndefined();
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 99)).toBe(100);
  });

  it('renders orders by final state and reason, and names each service log', () => {
    const lines = renderView({
      services: [{ name: 'order-service', port: 3000, state: 'ready', logFile: '.local-stack/logs/order-service.log' }],
      traffic: {
        placed: 10,
        finals: { CONFIRMED: 6, REJECTED: 3 },
        reasons: { OUT_OF_STOCK: 2, FRAUD_SCORE: 1 },
        inReview: 1,
        inFlight: 1,
        httpErrors: 0,
        latencies: [100, 200],
        finalTimes: [],
      },
      metrics: { dlqRecords: 4, recordsIn: 0, recordsOut: 0, lake: { recordsLanded: 12, filesUploaded: 2, hoursClosed: 0, hoursCompacted: 0 } },
      startedAt: Date.now(),
      color: false,
    }).join('\n');
    expect(lines).toContain('placed 10   confirmed 6   rejected 3');
    expect(lines).toContain('OUT_OF_STOCK 2, FRAUD_SCORE 1');
    expect(lines).toContain('DLQ 4');
    expect(lines).toContain('records landed 12');
    expect(lines).toContain('log .local-stack/logs/order-service.log');
  });
});

describe('live view: before the traffic starts', () => {
  const base = {
    services: [
      { name: 'order-service', port: 3000, state: 'starting', logFile: 'o.log' },
      { name: 'clickstream-collector', port: 3004, state: 'starting', logFile: 'c.log' },
    ],
    metrics: { dlqRecords: 0, recordsIn: 0, recordsOut: 0, lake: { recordsLanded: 0, filesUploaded: 0, hoursClosed: 0, hoursCompacted: 0 } },
    startedAt: Date.now(),
    color: false,
  };

  it('says the generator is coming while the services start, and off only with --no-traffic', () => {
    const pending = renderView({ ...base, trafficPending: true }).join('\n');
    expect(pending).toContain('starts once every service is ready');
    expect(pending).not.toContain('--no-traffic');
    expect(renderView(base).join('\n')).toContain('traffic generator off (--no-traffic)');
  });

  it('aligns the ports of services with long names', () => {
    const lines = renderView(base);
    const columns = lines.filter((l) => l.includes(' :300')).map((l) => l.indexOf(' :300'));
    expect(columns).toHaveLength(2);
    expect(new Set(columns).size).toBe(1);
  });
});

describe('live view: clickstream', () => {
  const scrape = [
    '# TYPE clickstream_events_total counter',
    'clickstream_events_total{outcome="published",event_type="PAGE_VIEW",service="clickstream-collector"} 7',
    'clickstream_events_total{outcome="published",event_type="ADD_TO_CART",service="clickstream-collector"} 2',
    'clickstream_events_total{outcome="dropped",event_type="",service="clickstream-collector"} 3',
    'clickstream_events_total{outcome="invalid",event_type="",service="clickstream-collector"} 1',
    'clickstream_requests_total{outcome="throttled",service="clickstream-collector"} 4',
    'clickstream_requests_total{outcome="ok",service="clickstream-collector"} 9',
    'clickstream_events_total_other{outcome="published"} 100',
  ].join('\n');

  it('sums one metric by one label, ignoring metrics that only share its prefix', () => {
    expect(sumByLabel(scrape, 'clickstream_events_total', 'outcome')).toEqual(new Map([['published', 9], ['dropped', 3], ['invalid', 1]]));
  });

  it('reads the collector counters and shows them with the demo shop address', () => {
    const c = clickstreamSnapshot(scrape, 'http://127.0.0.1:3004/shop', 2.5);
    expect(c).toEqual({ published: 9, byType: { PAGE_VIEW: 7, ADD_TO_CART: 2 }, invalid: 1, dropped: 3, failed: 0, throttled: 4, perSecond: 2.5, shopUrl: 'http://127.0.0.1:3004/shop' });
    const lines = renderView({
      services: [],
      metrics: { dlqRecords: 0, recordsIn: 0, recordsOut: 0, lake: { recordsLanded: 0, filesUploaded: 0, hoursClosed: 0, hoursCompacted: 0 }, clickstream: c },
      startedAt: Date.now(),
      color: false,
    }).join('\n');
    expect(lines).toContain('2.5 events/s   published 9   invalid 1   dropped (bots) 3');
    expect(lines).toContain('by type: PAGE_VIEW 7, ADD_TO_CART 2');
    expect(lines).toContain('demo shop: http://127.0.0.1:3004/shop');
  });
});

describe('live view: files', () => {
  it('adds up partner uploads, refusals and file-ingest outcomes', () => {
    const text = [
      'partner_sftp_files_stored_total{partner="acme",service="partner-sftp"} 2',
      'partner_sftp_files_stored_total{partner="zeta",service="partner-sftp"} 1',
      'partner_sftp_refusals_total{reason="unknown-key",service="partner-sftp"} 4',
      'file_ingest_files_total{source="wh",outcome="copied",service="file-ingest"} 10',
      'file_ingest_files_total{source="wh",outcome="skipped",service="file-ingest"} 990',
    ].join('\n');
    expect(filesSnapshot(text)).toEqual({ partnerStored: 3, partnerRefused: 4, ingestCopied: 10, ingestSkipped: 990, ingestFailed: 0 });
  });
});
