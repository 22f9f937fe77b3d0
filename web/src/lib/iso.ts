// world-atlas keys countries by ISO 3166-1 numeric code ("840"); the API by alpha-2 ("US").
import table from '../data/iso3166.json';

const numeric: Record<string, string> = table.numeric;
const byAtlasName: Record<string, string> = table.byAtlasName;

/** "840" / 840 / "4" -> alpha-2, or undefined for codes that are not assigned. */
export function alpha2FromNumeric(code: string | number | undefined | null): string | undefined {
  if (code === undefined || code === null || code === '') return undefined;
  const text = String(code);
  if (!/^\d{1,3}$/.test(text)) return undefined;
  return numeric[text.padStart(3, '0')];
}

/** The alpha-2 code of a world-atlas feature (a few features have a name but no numeric id). */
export function alpha2OfAtlasFeature(feature: { id?: string | number; properties?: { name?: string } | null }): string | undefined {
  return alpha2FromNumeric(feature.id) ?? byAtlasName[feature.properties?.name ?? ''];
}

export const ISO_NUMERIC_COUNT = Object.keys(numeric).length;
