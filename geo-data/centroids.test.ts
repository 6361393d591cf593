import { describe, expect, it } from 'vitest';
import { COUNTRY_CODES, continentCentroid, countryCentroid, type ContinentCode } from './centroids.js';

// ISO 3166-1 alpha-2, all 249 officially assigned codes, written out independently of the table.
const ISO_3166_1 = `
  AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
  CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
  GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP
  KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT
  MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
  SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG
  UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW`
  .trim()
  .split(/\s+/);

const CONTINENTS: ContinentCode[] = ['AF', 'AN', 'AS', 'EU', 'NA', 'OC', 'SA'];

const inRange = (p: { latitude: number; longitude: number }): boolean =>
  Number.isFinite(p.latitude) &&
  Number.isFinite(p.longitude) &&
  Math.abs(p.latitude) <= 90 &&
  Math.abs(p.longitude) <= 180;

describe('countryCentroid', () => {
  it('knows every ISO 3166-1 country, with coordinates in range', () => {
    expect(ISO_3166_1).toHaveLength(249);
    for (const code of ISO_3166_1) {
      const point = countryCentroid(code);
      expect(point, code).toBeDefined();
      expect(inRange(point!), code).toBe(true);
    }
    expect(new Set(COUNTRY_CODES)).toEqual(new Set([...ISO_3166_1, 'XK']));
  });

  it.each([
    ['US', 37.1, -95.7], // Kansas
    ['DE', 51.2, 10.5],
    ['JP', 36.2, 138.3],
    ['BR', -14.2, -51.9],
    ['AU', -25.3, 133.8],
    ['ZA', -30.6, 22.9],
    ['IS', 65.0, -19.0],
    ['XK', 42.6, 20.9],
  ])('puts %s near (%d, %d)', (code, latitude, longitude) => {
    const point = countryCentroid(code)!;
    expect(point.latitude).toBeCloseTo(latitude, 0);
    expect(point.longitude).toBeCloseTo(longitude, 0);
  });

  it('ignores case and knows nothing else', () => {
    expect(countryCentroid('de')).toEqual(countryCentroid('DE'));
    expect(countryCentroid('ZZ')).toBeUndefined();
    expect(countryCentroid('')).toBeUndefined();
    expect(countryCentroid('constructor')).toBeUndefined();
  });
});

describe('continentCentroid', () => {
  it('knows all seven continents, with coordinates in range', () => {
    for (const code of CONTINENTS) expect(inRange(continentCentroid(code)!), code).toBe(true);
  });

  it('puts each continent roughly where it is', () => {
    expect(continentCentroid('EU')!.latitude).toBeGreaterThan(40);
    expect(continentCentroid('NA')!.longitude).toBeLessThan(-60);
    expect(continentCentroid('SA')!.latitude).toBeLessThan(0);
    expect(continentCentroid('OC')!.longitude).toBeGreaterThan(110);
    expect(continentCentroid('AN')!.latitude).toBeLessThan(-60);
  });

  it('returns undefined for a code read from a database that is not a continent', () => {
    expect(continentCentroid('XX' as ContinentCode)).toBeUndefined();
    expect(continentCentroid('toString' as ContinentCode)).toBeUndefined();
  });
});
