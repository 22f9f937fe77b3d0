import { describe, expect, it } from 'vitest';
import {
  countryName,
  dimensionLabel,
  flagEmoji,
  formatBucket,
  formatCompact,
  formatDate,
  formatDateTime,
  formatDuration,
  formatInteger,
  formatPercent,
  formatRelative,
  parseTime,
  toRfc3339,
  truncateMiddle,
} from './format';

const en = { locale: 'en-US', timeZone: 'UTC' };

describe('parseTime', () => {
  it.each([
    ['2026-11-29T13:05:07Z', Date.UTC(2026, 10, 29, 13, 5, 7)],
    ['2026-11-29T13:05:07.123456Z', Date.UTC(2026, 10, 29, 13, 5, 7, 123)],
    ['2026-11-29T13:05:07.5Z', Date.UTC(2026, 10, 29, 13, 5, 7, 500)],
    ['2026-11-29T14:05:07+01:00', Date.UTC(2026, 10, 29, 13, 5, 7)],
    ['2026-11-29t13:05:07z', Date.UTC(2026, 10, 29, 13, 5, 7)],
  ])('%s', (text, expected) => {
    expect(parseTime(text)).toBe(expected);
  });

  it.each(['', 'yesterday', '2026-11-29', '1700000000'])('rejects %j', (text) => {
    expect(parseTime(text)).toBeNaN();
  });

  it('round-trips through toRfc3339 at second precision', () => {
    expect(toRfc3339(Date.UTC(2026, 0, 2, 3, 4, 5, 999))).toBe('2026-01-02T03:04:05Z');
  });
});

describe('numbers', () => {
  it.each([
    [0, '0'],
    [7, '7'],
    [1234, '1,234'],
    [9999, '9,999'],
    [12_345, '12.3K'],
    [3_400_000, '3.4M'],
  ])('formatCompact(%d) = %s', (n, text) => {
    expect(formatCompact(n, en)).toBe(text);
  });

  it('formatInteger groups digits and rounds', () => {
    expect(formatInteger(1234567.6, en)).toBe('1,234,568');
  });

  it.each([
    [0, 10, '0%'],
    [5, 0, '0%'],
    [1, 3, '33%'],
    [1, 1000, '<1%'],
    [10, 10, '100%'],
  ])('formatPercent(%d, %d) = %s', (part, total, text) => {
    expect(formatPercent(part, total, en)).toBe(text);
  });
});

describe('dates', () => {
  const t = '2026-11-29T13:05:07Z';

  it('formats dates and times in the given zone', () => {
    expect(formatDate(t, en)).toBe('Nov 29, 2026');
    expect(formatDateTime(t, en)).toBe('Nov 29, 2026, 1:05 PM');
    expect(formatDateTime(t, { locale: 'en-GB', timeZone: 'Asia/Tokyo' })).toBe('29 Nov 2026, 22:05');
    expect(formatDate('garbage', en)).toBe('—');
  });

  it('labels buckets by interval', () => {
    expect(formatBucket(t, 'day', en)).toBe('Nov 29');
    expect(formatBucket('2026-11-29T13:00:00Z', 'hour', en)).toBe('Nov 29, 1:00 PM');
  });
});

describe('formatRelative', () => {
  const now = Date.UTC(2026, 10, 29, 12, 0, 0);
  const ago = (ms: number) => now - ms;
  it.each([
    [ago(0), 'just now'],
    [ago(9_000), 'just now'],
    [ago(42_000), '42 seconds ago'],
    [ago(60_000), '1 minute ago'],
    [ago(5 * 60_000 + 59_000), '5 minutes ago'],
    [ago(3 * 3_600_000), '3 hours ago'],
    [ago(24 * 3_600_000), 'yesterday'],
    [ago(3 * 86_400_000), '3 days ago'],
    [ago(45 * 86_400_000), 'Oct 15, 2026'],
    [now + 5 * 60_000, 'in 5 minutes'],
    [now + 2 * 86_400_000, 'in 2 days'],
  ])('%d', (t, text) => {
    expect(formatRelative(t, now, en)).toBe(text);
  });

  it('accepts RFC 3339 strings', () => {
    expect(formatRelative('2026-11-29T11:59:01.999999Z', now, en)).toBe('58 seconds ago');
  });
});

describe('durations, countries, labels', () => {
  it.each([
    [0, '0 s'],
    [0.2, '1 s'],
    [45, '45 s'],
    [61, '2 min'],
    [3600, '1 h'],
    [3900, '1 h 5 min'],
  ])('formatDuration(%d) = %s', (s, text) => {
    expect(formatDuration(s)).toBe(text);
  });

  it('names countries from alpha-2 codes', () => {
    expect(countryName('US', en)).toBe('United States');
    expect(countryName('au', en)).toBe('Australia');
    expect(countryName('unknown', en)).toBe('Unknown');
    expect(countryName('', en)).toBe('Unknown');
    expect(countryName('not-a-code', en)).toBe('not-a-code');
  });

  it('builds flag emoji', () => {
    expect(flagEmoji('US')).toBe('🇺🇸');
    expect(flagEmoji('de')).toBe('🇩🇪');
    expect(flagEmoji('unknown')).toBe('');
  });

  it('labels dimension keys', () => {
    expect(dimensionLabel('direct')).toBe('Direct');
    expect(dimensionLabel('mobile')).toBe('Mobile');
    expect(dimensionLabel('news.ycombinator.com')).toBe('news.ycombinator.com');
    expect(dimensionLabel('')).toBe('Unknown');
  });

  it('truncates the middle of long text', () => {
    expect(truncateMiddle('short', 10)).toBe('short');
    const out = truncateMiddle('https://example.com/a/very/long/path/to/a/page.html', 24);
    expect(out).toHaveLength(24);
    expect(out.startsWith('https://exam')).toBe(true);
    expect(out.endsWith('page.html')).toBe(true);
  });
});
