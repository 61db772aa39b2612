/**
 * The demo shop's beacon, served as /shop/beacon.js (plain ES2017, no build step). It queues events in
 * sessionStorage, sends them in batches to POST /v1/events while the page is visible (fetch, keepalive),
 * keeps what failed with a retriable answer (429, 503, ServiceUnavailable, network) for a later try, and
 * on page hide sends everything still pending with navigator.sendBeacon. A beacon's outcome is never
 * known (the collector may have answered 503, the browser may have dropped it), so what went by beacon
 * stays stored and the session's next page sends it again with fetch, which is acknowledged. Delivery is
 * at least once: the lake deduplicates by eventId.
 */
export const BEACON_SCRIPT = String.raw`(function () {
  'use strict';
  var script = document.currentScript;
  var ENDPOINT = (script && script.dataset.endpoint) || '/v1/events';
  var BATCH = Number((script && script.dataset.batch) || 10);
  var FLUSH_MS = Number((script && script.dataset.flushMs) || 2000);
  var QUEUE_KEY = 'securecart.beacon.queue';
  var SESSION_KEY = 'securecart.beacon.session';
  var BEACON_BYTES = 60000; // browsers refuse beacons past ~64 KiB in flight
  var RETRIABLE = { ServiceUnavailable: true, InternalFailure: true };

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }
  function load(key, fallback) {
    try { var v = sessionStorage.getItem(key); return v ? JSON.parse(v) : fallback; } catch (e) { return fallback; }
  }
  function save(key, value) {
    try { sessionStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* storage full or off: memory only */ }
  }

  var sessionId = load(SESSION_KEY, null);
  if (!sessionId) { sessionId = uuid(); save(SESSION_KEY, sessionId); }
  // Everything not yet acknowledged, including what an earlier page left behind.
  var queue = load(QUEUE_KEY, []);
  var inFlight = {};
  // Sent by beacon from this page: not sent again from it, but kept for the next page (see above).
  var beaconed = {};
  var timer = null;
  var backoffMs = 0;
  var stats = { sent: 0, acknowledged: 0, retried: 0, beacons: 0, rejected: 0 };

  function persist() { save(QUEUE_KEY, queue); }
  function schedule(ms) {
    if (timer) return;
    timer = setTimeout(function () { timer = null; flush(); }, ms);
  }

  function track(eventType, fields) {
    var event = { eventId: uuid(), occurredAt: new Date().toISOString(), eventType: eventType, sessionId: sessionId, pageUrl: location.pathname };
    for (var k in fields || {}) if (fields[k] !== undefined && fields[k] !== null && fields[k] !== '') event[k] = fields[k];
    queue.push(event);
    persist();
    if (unsent().length >= BATCH) flush();
    else schedule(FLUSH_MS);
    return event.eventId;
  }

  function settle(batch, results) {
    var keep = {};
    batch.forEach(function (event, i) {
      var r = results && results[i];
      if (!r || (r.errorCode && RETRIABLE[r.errorCode])) { keep[event.eventId] = true; stats.retried++; }
      else if (r.errorCode) { stats.rejected++; console.warn('securecart beacon: event refused', r.errorCode, r.errorMessage); }
      else stats.acknowledged++;
      delete inFlight[event.eventId];
    });
    queue = queue.filter(function (e) { return keep[e.eventId] || !batch.some(function (b) { return b.eventId === e.eventId; }); });
    persist();
  }

  function unsent() { return queue.filter(function (e) { return !inFlight[e.eventId] && !beaconed[e.eventId]; }); }

  function flush() {
    var batch = unsent().slice(0, BATCH);
    if (batch.length === 0) return Promise.resolve();
    batch.forEach(function (e) { inFlight[e.eventId] = true; });
    stats.sent += batch.length;
    return fetch(ENDPOINT, { method: 'POST', body: JSON.stringify(batch), headers: { 'content-type': 'text/plain;charset=UTF-8' }, keepalive: true })
      .then(function (res) {
        if (res.status === 429 || res.status >= 500) {
          var after = Number(res.headers.get('retry-after')) * 1000;
          backoffMs = after > 0 ? after : Math.min(30000, Math.max(1000, backoffMs * 2));
          return res.json().catch(function () { return {}; }).then(function (body) { settle(batch, res.status === 503 && body.records ? body.records : null); schedule(backoffMs); });
        }
        backoffMs = 0;
        if (!res.ok) { settle(batch, batch.map(function () { return { errorCode: 'Rejected' + res.status }; })); return; }
        return res.json().then(function (body) { settle(batch, body.records); if (unsent().length > 0) schedule(FLUSH_MS); });
      })
      .catch(function () {
        backoffMs = Math.min(30000, Math.max(1000, backoffMs * 2));
        settle(batch, null);
        schedule(backoffMs);
      });
  }

  // Page hide: whatever is still pending (failed earlier or never sent) goes by beacon, which the
  // browser delivers after the page is gone. Everything stays stored until a fetch is acknowledged:
  // events in a keepalive fetch that did not settle and events sent by beacon go again from the next page.
  function sendPendingByBeacon() {
    var pending = unsent();
    var chunk = [];
    function send() {
      if (chunk.length === 0) return true;
      var body = JSON.stringify(chunk);
      var ok = navigator.sendBeacon && navigator.sendBeacon(ENDPOINT, new Blob([body], { type: 'text/plain;charset=UTF-8' }));
      if (ok) { stats.beacons++; chunk.forEach(function (e) { beaconed[e.eventId] = true; }); }
      chunk = [];
      return ok;
    }
    for (var i = 0; i < pending.length; i++) {
      chunk.push(pending[i]);
      if (chunk.length >= BATCH || JSON.stringify(chunk).length > BEACON_BYTES / 2) { if (!send()) break; }
    }
    send();
    persist();
  }
  document.addEventListener('visibilitychange', function () { if (document.visibilityState === 'hidden') sendPendingByBeacon(); });
  window.addEventListener('pagehide', sendPendingByBeacon);

  // Clicks on elements with data-track="<EVENT_TYPE>" (and data-sku) are tracked declaratively.
  document.addEventListener('click', function (ev) {
    var el = ev.target && ev.target.closest ? ev.target.closest('[data-track]') : null;
    if (el) track(el.dataset.track, { productSku: el.dataset.sku });
  }, true);

  window.securecartBeacon = {
    sessionId: sessionId,
    track: track,
    flush: flush,
    // Events this page still has to deliver (what it sent by beacon is the next page's to confirm).
    pending: function () { return unsent().length + Object.keys(inFlight).length; },
    stats: stats,
  };

  var body = document.body.dataset;
  var ref = '';
  try { ref = document.referrer ? new URL(document.referrer).host : ''; } catch (e) { ref = ''; }
  track('PAGE_VIEW', { referrer: ref });
  if (body.sku) track('PRODUCT_VIEW', { productSku: body.sku });
  if (body.search) track('SEARCH', { searchQuery: body.search });
  if (queue.length > 1) flush();
})();
`;
