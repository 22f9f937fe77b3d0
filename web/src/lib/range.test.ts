import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../api/client';
import { intervalsFor, isLive, rangeQuery, spanOf } from './range';

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('ranges', () => {
  it('turns presets into a query that ends "now" on the server', () => {
    expect(rangeQuery({ key: '24h', interval: 'hour' }, NOW)).toEqual({ from: '2026-11-28T12:00:00Z', interval: 'hour' });
    expect(rangeQuery({ key: '1h', interval: 'minute' }, NOW)).toEqual({ from: '2026-11-29T11:00:00Z', interval: 'minute' });
    expect(rangeQuery({ key: '30d', interval: 'day' }, NOW).from).toBe('2026-10-30T12:00:00Z');
  });

  it('sends both ends of a closed custom range', () => {
    const range = { key: 'custom' as const, interval: 'day' as const, from: NOW - 3 * DAY, to: NOW - DAY };
    expect(rangeQuery(range, NOW)).toEqual({ from: '2026-11-26T12:00:00Z', to: '2026-11-28T12:00:00Z', interval: 'day' });
    expect(isLive(range, NOW)).toBe(false);
    expect(spanOf(range, NOW)).toBe(2 * DAY);
  });

  it('treats an open custom range as live', () => {
    const range = { key: 'custom' as const, interval: 'hour' as const, from: NOW - 2 * DAY };
    expect(isLive(range, NOW)).toBe(true);
    expect(rangeQuery(range, NOW)).toEqual({ from: '2026-11-27T12:00:00Z', interval: 'hour' });
  });

  it('offers only bucket sizes that give 2 to 1,500 buckets', () => {
    expect(intervalsFor(HOUR)).toEqual(['minute']);
    expect(intervalsFor(DAY)).toEqual(['minute', 'hour']);
    expect(intervalsFor(7 * DAY)).toEqual(['hour', 'day']);
    expect(intervalsFor(90 * DAY)).toEqual(['day']);
    expect(intervalsFor(10 * 365 * DAY)).toEqual(['day']);
  });
});

describe('parseRetryAfter', () => {
  it.each([
    ['30', 30],
    [' 5 ', 5],
    [new Date(NOW + 90_000).toUTCString(), 90],
    [new Date(NOW - 90_000).toUTCString(), 0],
    ['soon', null],
    [null, null],
  ])('%j -> %j', (value, seconds) => {
    expect(parseRetryAfter(value, NOW)).toBe(seconds);
  });
});
