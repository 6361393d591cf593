import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { forwardInterim, splitLinks, takesInterim } from './interim.js';

function fakeResponse(state: Partial<Pick<ServerResponse, 'headersSent' | 'destroyed' | 'writableEnded'>> = {}) {
  const written: unknown[] = [];
  const res = {
    headersSent: false,
    destroyed: false,
    writableEnded: false,
    ...state,
    writeEarlyHints: (hints: Record<string, unknown>) => void written.push(['103', hints]),
    writeProcessing: () => void written.push(['102']),
  } as unknown as ServerResponse;
  return { res, written };
}

const VIA = '1.1 meridian-fra';

describe('forwardInterim', () => {
  it('writes a 103 with its links split, our Via, and without CDN-only fields or cookies', () => {
    const { res, written } = fakeResponse();
    forwardInterim(
      res,
      103,
      {
        link: '</a.css>; rel=preload, </b,c.js>; rel=preload',
        'cdn-cache-control': 'max-age=9',
        'set-cookie': 'a=1',
        x: ['1', '2'],
      },
      VIA,
    );
    expect(written).toEqual([
      ['103', { link: ['</a.css>; rel=preload', '</b,c.js>; rel=preload'], x: '1, 2', via: VIA }],
    ]);
  });

  it('writes 102; drops 100, 101, other codes and a 103 without Link', () => {
    const { res, written } = fakeResponse();
    forwardInterim(res, 102, {}, VIA);
    forwardInterim(res, 100, { link: '</a>' }, VIA);
    forwardInterim(res, 101, { link: '</a>' }, VIA);
    forwardInterim(res, 104, { link: '</a>' }, VIA);
    forwardInterim(res, 103, { 'x-other': 'y' }, VIA);
    expect(written).toEqual([['102']]);
  });

  it('writes nothing once the final head went out or the client left', () => {
    for (const state of [{ headersSent: true }, { destroyed: true }, { writableEnded: true }]) {
      const { res, written } = fakeResponse(state);
      forwardInterim(res, 103, { link: '</a>' }, VIA);
      expect(written).toEqual([]);
    }
  });
});

describe('splitLinks (RFC 8288 §3)', () => {
  it('splits at commas outside <…> and quoted strings', () => {
    expect(splitLinks('</a>; rel=preload,</b>;rel=x')).toEqual(['</a>; rel=preload', '</b>;rel=x']);
    expect(splitLinks('</a,b>; title="x, y", </c>')).toEqual(['</a,b>; title="x, y"', '</c>']);
    expect(splitLinks(' , ')).toEqual([]);
  });
});

describe('takesInterim', () => {
  it('is false for HTTP/1.0 only', () => {
    expect(takesInterim(1, 0)).toBe(false);
    expect(takesInterim(1, 1)).toBe(true);
    expect(takesInterim(2, 0)).toBe(true);
  });
});
