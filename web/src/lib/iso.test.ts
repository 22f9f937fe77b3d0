import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import { describe, expect, it } from 'vitest';
import atlas from 'world-atlas/countries-110m.json';
import table from '../data/iso3166.json';
import { ISO_NUMERIC_COUNT, alpha2FromNumeric, alpha2OfAtlasFeature } from './iso';

describe('ISO 3166-1 numeric -> alpha-2', () => {
  it.each([
    ['840', 'US'],
    [840, 'US'],
    ['036', 'AU'],
    ['36', 'AU'],
    [4, 'AF'],
    ['826', 'GB'],
    ['250', 'FR'],
    ['276', 'DE'],
    ['392', 'JP'],
    ['076', 'BR'],
    ['704', 'VN'],
  ])('%j -> %s', (code, alpha2) => {
    expect(alpha2FromNumeric(code)).toBe(alpha2);
  });

  it.each([undefined, null, '', '999', 'US', '8400', '-1'])('%j -> undefined', (code) => {
    expect(alpha2FromNumeric(code as string)).toBeUndefined();
  });

  it('holds every assigned code exactly once', () => {
    expect(ISO_NUMERIC_COUNT).toBe(249);
    const alpha = Object.values(table.numeric);
    expect(new Set(alpha).size).toBe(alpha.length);
    for (const [numeric, code] of Object.entries(table.numeric)) {
      expect(numeric).toMatch(/^\d{3}$/);
      expect(code).toMatch(/^[A-Z]{2}$/);
    }
  });

  it('maps every country of the world-atlas 110m map', () => {
    const topology = atlas as unknown as Topology<{ countries: GeometryCollection<{ name: string }> }>;
    const countries = feature(topology, topology.objects.countries).features;
    expect(countries.length).toBeGreaterThan(170);
    const unmapped = countries.filter((f) => !alpha2OfAtlasFeature(f)).map((f) => f.properties.name);
    expect(unmapped).toEqual([]);
    const names = new Intl.DisplayNames(['en'], { type: 'region' });
    const byName = (name: string) => countries.find((f) => f.properties.name === name)!;
    expect(alpha2OfAtlasFeature(byName('United States of America'))).toBe('US');
    expect(alpha2OfAtlasFeature(byName('Australia'))).toBe('AU');
    expect(alpha2OfAtlasFeature(byName('Kosovo'))).toBe('XK');
    // Spot-check the table against ICU's own names for the same alpha-2 codes.
    for (const name of ['France', 'Germany', 'Japan', 'Brazil', 'India', 'Canada', 'Mexico', 'Egypt']) {
      expect(names.of(alpha2OfAtlasFeature(byName(name))!)).toBe(name);
    }
  });
});
