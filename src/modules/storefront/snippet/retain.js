/*
 * retain.js — Retain's storefront tracking snippet (docs/storefront.md). Plain ES2017, no dependencies.
 * scripts/snippet.mjs minifies it into dist/storefront/retain.js (failing above 5 kB gzipped) and
 * `retain serve` answers it at /retain.js.
 *
 *   <script>window.retain=window.retain||function(){(retain.q=retain.q||[]).push(arguments)};</script>
 *   <script async src="https://retain.example/retain.js" data-key="pk_…"></script>
 *
 *   retain('track', 'view' | 'add_to_cart' | 'checkout_started' | 'custom_name', {…properties})
 *   retain('identify', {email} | {id})    retain('consent', true | false)    retain('reset')
 *   retain('init', {key, endpoint, requireConsent, cookieDomain, flushInterval})    retain('flush')
 *
 * The visitor's anonymous id lives in a first-party cookie (365 days, SameSite=Lax, Secure on https),
 * set only once tracking is allowed: at once, or — with requireConsent — after retain('consent', true).
 * Events wait in a queue (kept in localStorage while allowed) and go out in batches: every few seconds
 * by fetch, whose answer says whether to retry (network errors, 429 and 5xx: again with backoff), and
 * on visibilitychange/pagehide by navigator.sendBeacon (fallback fetch keepalive). Every event carries
 * an id made here, so a batch sent twice is stored once.
 */
/* global window, document, navigator, localStorage, location */
// ES2017 has no `catch {}` without a binding: the unused `e`s are the syntax, not a mistake.
/* eslint @typescript-eslint/no-unused-vars: ["error", { "caughtErrors": "none" }] */
(function () {
  'use strict';
  const w = window;
  const d = document;
  const COOKIE = '_retain_aid';
  const QUEUE = '_retain_q';
  const CONSENT = '_retain_consent';
  const WHO = '_retain_who';
  const YEAR = 365 * 24 * 3600;
  const WEEK_MS = 7 * 24 * 3600 * 1000;
  const MAX_EVENTS = 50; // per batch (the server's limit)
  const MAX_CHARS = 20000; // per batch, well under the server's 64 KiB and the beacon quota
  const MAX_QUEUE = 500;
  const MAX_PROPS = 2048;
  const NAME = /^[a-z][a-z0-9_]{0,39}$/;
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

  const script = d.currentScript;
  const stub = w.retain;
  if (stub && stub.loaded) return;

  let cfg = null; // {key, endpoint, requireConsent, cookieDomain, every: ms between sends}
  let consent = null; // the visitor's choice: null (not asked), true, false
  let aid = null; // the anonymous id
  let who = null; // a hash of the identity last given to identify()
  let queue = []; // {event_id, type, occurred_at, properties, a: anonymous id}
  let timer = 0;
  let sending = null; // the batch in flight
  let fails = 0;
  let retryAt = 0; // no in-page send before this time (backoff after a failure)

  const warn = (m) => w.console && w.console.warn('retain: ' + m);
  const load = (k) => {
    try {
      return localStorage.getItem(k);
    } catch (e) {
      return null;
    }
  };
  const keep = (k, v) => {
    try {
      if (v === null) localStorage.removeItem(k);
      else localStorage.setItem(k, v);
    } catch (e) {
      // storage full or blocked: the queue stays in memory
    }
  };
  const allowed = () => !!cfg && (consent === true || (consent === null && !cfg.requireConsent));

  function randomId() {
    const bytes = new Uint8Array(22);
    w.crypto.getRandomValues(bytes);
    let s = '';
    for (let i = 0; i < bytes.length; i++) s += ALPHABET[bytes[i] & 63];
    return s;
  }

  function hash(s) {
    let h = 2166136261;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
    return (h >>> 0).toString(36);
  }

  function setCookie(value, maxAge) {
    d.cookie =
      COOKIE +
      '=' +
      value +
      '; Max-Age=' +
      maxAge +
      '; Path=/; SameSite=Lax' +
      (location.protocol === 'https:' ? '; Secure' : '') +
      (cfg && cfg.cookieDomain ? '; Domain=' + cfg.cookieDomain : '');
  }

  function readCookie() {
    const m = /(?:^|;\s*)_retain_aid=([A-Za-z0-9_-]{8,64})/.exec(d.cookie);
    return m ? m[1] : null;
  }

  /** The anonymous id, read from or written to the cookie — only while tracking is allowed. */
  function anonymousId() {
    if (!allowed()) return null;
    if (!aid) {
      aid = readCookie() || randomId();
      setCookie(aid, YEAR);
    }
    return aid;
  }

  function save() {
    if (allowed()) keep(QUEUE, queue.length ? JSON.stringify(queue) : null);
  }

  /** Events left by earlier pages (unsent, or sent without an answer), a week at most. */
  function restore() {
    let saved;
    try {
      saved = JSON.parse(load(QUEUE) || '[]');
    } catch (e) {
      saved = [];
    }
    const since = Date.now() - WEEK_MS;
    const ids = queue.map((e) => e.event_id);
    queue = (Array.isArray(saved) ? saved : [])
      .filter((e) => e && e.event_id && ids.indexOf(e.event_id) < 0 && Date.parse(e.occurred_at) > since)
      .concat(queue)
      .slice(-MAX_QUEUE);
  }

  function schedule(ms) {
    if (!timer)
      timer = setTimeout(() => {
        timer = 0;
        flush(false);
      }, ms);
  }

  function push(type, properties) {
    if (consent === false) return;
    queue.push({ event_id: randomId(), type, occurred_at: new Date().toISOString(), properties, a: aid });
    if (queue.length > MAX_QUEUE) queue.shift();
    save();
    if (allowed()) schedule(cfg.every);
  }

  /** The leading events of one anonymous id, within the batch limits. */
  function batchOf(events) {
    const out = [];
    let chars = 0;
    for (const e of events) {
      chars += JSON.stringify(e.properties).length + 100;
      if (e.a !== events[0].a || out.length === MAX_EVENTS || (out.length && chars > MAX_CHARS)) break;
      out.push(e);
    }
    return out;
  }

  function bodyOf(batch) {
    return JSON.stringify({
      anonymous_id: batch[0].a,
      consent: true,
      sent_at: new Date().toISOString(),
      events: batch.map((e) => ({
        event_id: e.event_id,
        type: e.type,
        occurred_at: e.occurred_at,
        properties: e.properties,
      })),
    });
  }

  function drop(batch) {
    const ids = batch.map((e) => e.event_id);
    queue = queue.filter((e) => ids.indexOf(e.event_id) < 0);
    save();
  }

  const post = (body, keepalive) =>
    w.fetch(cfg.endpoint + '/t/collect?key=' + encodeURIComponent(cfg.key), {
      method: 'POST',
      body,
      keepalive,
      credentials: 'omit',
    });

  /**
   * Sends the queue. While the page lives: one batch at a time by fetch; a refused batch (4xx other than
   * 408/429) is dropped, a failed one retried with backoff (1–2 s, doubling, at most 5 min). When the page is
   * left: every batch by sendBeacon; one the browser would not take goes by fetch keepalive and stays
   * queued for the next page (a repeat is stored once).
   */
  function flush(leaving) {
    if (!allowed() || !queue.length) return;
    anonymousId();
    queue.forEach((e) => {
      if (!e.a) e.a = aid;
    });
    if (leaving) {
      let rest = queue.filter((e) => !sending || sending.indexOf(e) < 0);
      while (rest.length) {
        const batch = batchOf(rest);
        rest = rest.slice(batch.length);
        const body = bodyOf(batch);
        let sent = false;
        try {
          sent = navigator.sendBeacon(cfg.endpoint + '/t/collect?key=' + encodeURIComponent(cfg.key), body);
        } catch (e) {
          sent = false;
        }
        if (sent) drop(batch);
        else
          try {
            post(body, true).catch(() => 0);
          } catch (e) {
            // left for the next page
          }
      }
      return;
    }
    if (sending) return;
    if (Date.now() < retryAt) return schedule(retryAt - Date.now());
    const batch = batchOf(queue);
    sending = batch;
    post(bodyOf(batch), true)
      .then((r) => {
        if (r.status === 408 || r.status === 429 || r.status >= 500) throw r.status;
        if (r.status >= 400) warn('the server refused a batch (' + r.status + ')');
        drop(batch);
        fails = retryAt = 0;
        sending = null;
        if (queue.length) schedule(0);
      })
      .catch(() => {
        sending = null;
        const wait = Math.min(300000, 1000 * Math.pow(2, ++fails)) * (0.5 + Math.random() / 2);
        retryAt = Date.now() + wait;
        schedule(wait);
      });
  }

  /** Tracking became possible (init, or consent given): the cookie, the earlier pages' queue, a send. */
  function start() {
    if (!allowed()) return;
    anonymousId();
    restore();
    if (who) keep(WHO, who);
    else who = load(WHO);
    save();
    if (queue.length) schedule(cfg.every);
  }

  function init(o) {
    if (!o || typeof o.key !== 'string') return warn('init needs {key}');
    let endpoint = o.endpoint;
    if (!endpoint && script && script.src) endpoint = script.src.replace(/\/retain\.js([?#].*)?$/, '');
    if (!endpoint) return warn('init needs {endpoint}: where retain serve answers');
    cfg = {
      key: o.key,
      endpoint: String(endpoint).replace(/\/+$/, ''),
      requireConsent: !!o.requireConsent,
      cookieDomain: o.cookieDomain || null,
      every: Math.max(1000, Number(o.flushInterval) || 3000),
    };
    if (consent === null) {
      const c = load(CONSENT);
      consent = c === '1' ? true : c === '0' ? false : null;
    }
    start();
  }

  function track(type, properties) {
    if (typeof type !== 'string' || !NAME.test(type) || type === 'identify')
      return warn('not an event name: ' + type + ' (lower-case letters, digits and _)');
    let props = Object.assign({}, properties);
    if (type === 'view')
      props = Object.assign(
        { url: location.href.split(/[?#]/)[0], title: d.title, referrer: d.referrer.split(/[?#]/)[0] },
        props,
      );
    const text = JSON.stringify(props);
    if (text.length > MAX_PROPS) return warn(type + ': properties over ' + MAX_PROPS + ' characters as JSON');
    push(type, JSON.parse(text));
  }

  /** Links this browser's history to a customer; another person than the last one gets a new anonymous id. */
  function identify(person) {
    const p =
      typeof person === 'string' ? (person.indexOf('@') > 0 ? { email: person } : { id: person }) : person;
    let props = null;
    if (p && typeof p.email === 'string' && p.email.trim()) props = { email: p.email.trim().toLowerCase() };
    else if (p && (typeof p.id === 'string' || typeof p.id === 'number') && String(p.id).trim())
      props = { id: String(p.id).trim() };
    if (!props) return warn('identify needs {email} or {id}');
    const h = hash(JSON.stringify(props));
    if (!who && allowed()) who = load(WHO);
    if (who === h) return;
    if (who) reset();
    who = h;
    if (allowed()) keep(WHO, h);
    push('identify', props);
  }

  /** Someone else from now on (a log-out): a new anonymous id, no identity. */
  function reset() {
    queue.forEach((e) => {
      if (!e.a) e.a = aid;
    });
    who = null;
    aid = null;
    keep(WHO, null);
    if (allowed()) {
      aid = randomId();
      setCookie(aid, YEAR);
    }
  }

  function setConsent(given) {
    consent = !!given;
    keep(CONSENT, consent ? '1' : '0');
    if (consent) {
      if (cfg) start();
      return;
    }
    // Withdrawn: nothing more is sent, and nothing of the visitor is kept here.
    clearTimeout(timer);
    timer = 0;
    queue = [];
    aid = null;
    who = null;
    keep(QUEUE, null);
    keep(WHO, null);
    if (readCookie()) setCookie('', 0);
  }

  const commands = {
    init,
    track,
    identify,
    consent: setConsent,
    reset,
    flush: () => flush(false),
  };
  const retain = function (name) {
    const command = commands[name];
    if (!command) return warn('unknown command ' + name);
    try {
      command.apply(null, [].slice.call(arguments, 1));
    } catch (e) {
      warn(e && e.message);
    }
  };
  retain.loaded = true;
  w.retain = retain;

  d.addEventListener('visibilitychange', () => {
    if (d.visibilityState === 'hidden') flush(true);
  });
  w.addEventListener('pagehide', () => flush(true));

  if (script && script.getAttribute('data-key'))
    init({
      key: script.getAttribute('data-key'),
      endpoint: script.getAttribute('data-endpoint'),
      requireConsent: script.hasAttribute('data-require-consent'),
      cookieDomain: script.getAttribute('data-cookie-domain'),
      flushInterval: script.getAttribute('data-flush-interval'),
    });
  const waiting = (stub && stub.q) || [];
  for (let i = 0; i < waiting.length; i++) retain.apply(null, waiting[i]);
})();
