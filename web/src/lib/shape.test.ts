import { describe, expect, it } from 'vitest';
import type { ClickEvent, Stats } from '../api/types';
import { addToSeries, applyClicks, bumpCount, dimensionKeys, liveClicks, liveThreshold, pushRecent, sumCounts } from './shape';

const T0 = Date.UTC(2026, 10, 29, 10, 0, 0);
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

function stats(overrides: Partial<Stats> = {}): Stats {
  return {
    slug: 'abc',
    from: iso(T0),
    to: iso(T0 + 3 * HOUR),
    interval: 'hour',
    total: 5,
    unique: 4,
    bots: 1,
    timeseries: [
      { t: iso(T0), clicks: 2, unique: 2 },
      { t: iso(T0 + HOUR), clicks: 0, unique: 0 },
      { t: iso(T0 + 2 * HOUR), clicks: 3, unique: 2 },
    ],
    countries: [
      { key: 'US', clicks: 3 },
      { key: 'AU', clicks: 2 },
    ],
    cities: [],
    referrers: [{ key: 'direct', clicks: 5 }],
    devices: [
      { key: 'desktop', clicks: 4 },
      { key: 'mobile', clicks: 1 },
    ],
    browsers: [],
    os: [],
    ...overrides,
  };
}

let nextId = 0;
function click(tMs: number, overrides: Partial<ClickEvent> = {}): ClickEvent {
  return {
    id: `e${++nextId}`,
    slug: 'abc',
    t: iso(tMs),
    country: 'AU',
    region: '',
    city: 'Sydney',
    referrer: 'direct',
    device: 'mobile',
    browser: 'Mobile Safari',
    browser_version: '17',
    os: 'iOS',
    bot: false,
    bot_reason: '',
    unique: true,
    ...overrides,
  };
}

describe('bumpCount', () => {
  it('adds to an existing key and re-sorts', () => {
    const list = bumpCount(
      bumpCount(
        [
          { key: 'US', clicks: 3 },
          { key: 'AU', clicks: 2 },
        ],
        'AU',
      ),
      'AU',
    );
    expect(list).toEqual([
      { key: 'AU', clicks: 4 },
      { key: 'US', clicks: 3 },
    ]);
  });

  it('appends a new key and keeps ties in their order', () => {
    expect(bumpCount([{ key: 'US', clicks: 1 }], 'FR')).toEqual([
      { key: 'US', clicks: 1 },
      { key: 'FR', clicks: 1 },
    ]);
  });

  it('does not mutate its input', () => {
    const list = [{ key: 'US', clicks: 1 }];
    bumpCount(list, 'US');
    expect(list).toEqual([{ key: 'US', clicks: 1 }]);
  });
});

describe('addToSeries', () => {
  const series = stats().timeseries;

  it('adds to the bucket holding the instant', () => {
    const out = addToSeries(series, 'hour', T0 + HOUR + 59 * 60_000, true);
    expect(out.map((b) => b.clicks)).toEqual([2, 1, 3]);
    expect(out.map((b) => b.unique)).toEqual([2, 1, 2]);
  });

  it('counts a repeat visitor in clicks only', () => {
    expect(addToSeries(series, 'hour', T0, false).map((b) => [b.clicks, b.unique])[0]).toEqual([3, 2]);
  });

  it('appends zero-filled buckets up to a later instant', () => {
    const out = addToSeries(series, 'hour', T0 + 5 * HOUR + 1, true);
    expect(out.map((b) => b.clicks)).toEqual([2, 0, 3, 0, 0, 1]);
    expect(out[5].t).toBe(iso(T0 + 5 * HOUR));
  });

  it('slides a rolling window instead of growing it', () => {
    const out = addToSeries(series, 'hour', T0 + 4 * HOUR, true, { slide: true });
    expect(out.map((b) => b.clicks)).toEqual([3, 0, 1]);
    expect(out[0].t).toBe(iso(T0 + 2 * HOUR));
  });

  it('ignores an instant before the first bucket', () => {
    expect(addToSeries(series, 'hour', T0 - 1, true)).toBe(series);
  });

  it('starts an empty series at the bucket of the instant', () => {
    expect(addToSeries([], 'minute', Date.UTC(2026, 0, 1, 0, 0, 42), true)).toEqual([
      { t: '2026-01-01T00:00:00.000Z', clicks: 1, unique: 1 },
    ]);
  });

  it('buckets by day', () => {
    const days = [{ t: iso(Date.UTC(2026, 10, 1)), clicks: 0, unique: 0 }];
    const out = addToSeries(days, 'day', Date.UTC(2026, 10, 3, 23, 59), false);
    expect(out.map((b) => b.clicks)).toEqual([0, 0, 1]);
  });
});

describe('applyClicks', () => {
  const after = T0 + 3 * HOUR;

  it('moves total, unique, countries, devices and the series', () => {
    const out = applyClicks(
      stats(),
      [click(after + 1000), click(after + 2000, { country: 'US', city: 'Mountain View', device: 'desktop', unique: false })],
      {
        bots: 'exclude',
        after,
      },
    );
    expect(out.total).toBe(7);
    expect(out.unique).toBe(5);
    expect(out.bots).toBe(1);
    expect(out.countries).toEqual([
      { key: 'US', clicks: 4 },
      { key: 'AU', clicks: 3 },
    ]);
    expect(out.devices).toEqual([
      { key: 'desktop', clicks: 5 },
      { key: 'mobile', clicks: 2 },
    ]);
    expect(out.cities).toEqual([
      { key: 'Sydney', clicks: 1 },
      { key: 'Mountain View', clicks: 1 },
    ]);
    expect(out.browsers).toEqual([{ key: 'Mobile Safari', clicks: 2 }]);
    expect(out.timeseries.map((b) => b.clicks)).toEqual([2, 0, 3, 2]);
    expect(out.timeseries.map((b) => b.unique)).toEqual([2, 0, 2, 1]);
  });

  it('leaves the base untouched and returns it when nothing applies', () => {
    const base = stats();
    const copy = structuredClone(base);
    expect(applyClicks(base, [click(after - 1), click(after)], { bots: 'exclude', after })).toBe(base);
    applyClicks(base, [click(after + 1)], { bots: 'exclude', after });
    expect(base).toEqual(copy);
  });

  it('counts each event id once', () => {
    const c = click(after + 10);
    expect(applyClicks(stats(), [c, c, { ...c }], { bots: 'exclude', after }).total).toBe(6);
  });

  it('counts bots apart unless they are included', () => {
    const bot = click(after + 10, { bot: true, device: 'bot', bot_reason: 'ua-list', unique: false, country: 'US' });
    const excluded = applyClicks(stats(), [bot], { bots: 'exclude', after });
    expect([excluded.total, excluded.bots, excluded.devices.find((d) => d.key === 'bot')]).toEqual([5, 2, undefined]);
    const included = applyClicks(stats(), [bot], { bots: 'include', after });
    expect([included.total, included.bots]).toEqual([6, 2]);
    expect(included.devices).toContainEqual({ key: 'bot', clicks: 1 });
  });

  it('fills unknown keys', () => {
    const out = applyClicks(stats({ countries: [] }), [click(after + 1, { country: '', city: '', referrer: '' })], {
      bots: 'exclude',
      after,
    });
    expect(out.countries).toEqual([{ key: 'unknown', clicks: 1 }]);
    expect(out.cities).toEqual([{ key: 'unknown', clicks: 1 }]);
    expect(out.referrers[0]).toEqual({ key: 'direct', clicks: 6 });
  });

  it('keeps the series when asked not to extend it', () => {
    const out = applyClicks(stats(), [click(after + 1)], { bots: 'exclude', after, extendSeries: false });
    expect(out.total).toBe(6);
    expect(out.timeseries).toHaveLength(3);
    expect(out.timeseries.map((b) => b.clicks)).toEqual([2, 0, 3]);
  });

  it('ranks top links of the account view', () => {
    const base = stats({ top_links: [{ slug: 'x', url: 'https://x.test', clicks: 1 }] });
    const out = applyClicks(base, [click(after + 1, { slug: 'abc' }), click(after + 2, { slug: 'abc' })], { bots: 'exclude', after });
    expect(out.top_links).toEqual([
      { slug: 'abc', url: '', clicks: 2 },
      { slug: 'x', url: 'https://x.test', clicks: 1 },
    ]);
  });
});

describe('helpers', () => {
  it('liveThreshold takes the earlier of to and arrival', () => {
    expect(liveThreshold({ to: iso(T0) }, T0 + 5000)).toBe(T0);
    expect(liveThreshold({ to: iso(T0 + HOUR) }, T0 + 5000)).toBe(T0 + 5000);
    expect(liveThreshold({ to: 'nonsense' }, T0)).toBe(T0);
  });

  it('liveClicks keeps what a snapshot cannot count yet', () => {
    const requestedAt = T0 + 10_800; // request sent
    const after = T0 + 10_000; // the answer's `to`, here truncated to the second
    const before = click(T0 + 9_000); // received before the request: committed, so counted
    const racing = click(T0 + 10_400); // clicked within the truncated second, received before the request
    const late = click(T0 + 9_500); // clicked before `to`, received after the request: assumed counted
    const fresh = click(T0 + 11_000); // after `to` and received after the request: live
    const received = [
      { click: before, receivedAt: T0 + 9_100 },
      { click: racing, receivedAt: T0 + 10_500 },
      { click: late, receivedAt: T0 + 10_900 },
      { click: fresh, receivedAt: T0 + 11_050 },
    ];
    expect(liveClicks(received, requestedAt, after).map((c) => c.id)).toEqual([fresh.id]);
  });

  it('pushRecent keeps newest first, unique, bounded', () => {
    let recent: ClickEvent[] = [];
    const a = click(T0);
    const b = click(T0 + 1);
    recent = pushRecent(recent, a, 2);
    recent = pushRecent(recent, b, 2);
    recent = pushRecent(recent, a, 2);
    recent = pushRecent(recent, click(T0 + 2), 2);
    expect(recent.map((c) => c.id)).toEqual([`e${nextId}`, b.id]);
  });

  it('dimensionKeys and sumCounts', () => {
    expect(dimensionKeys(click(T0, { os: '', browser: '', device: '' }))).toEqual({
      countries: 'AU',
      cities: 'Sydney',
      referrers: 'direct',
      devices: 'other',
      browsers: 'unknown',
      os: 'unknown',
    });
    expect(
      sumCounts([
        { key: 'a', clicks: 2 },
        { key: 'b', clicks: 3 },
      ]),
    ).toBe(5);
  });
});
