import { describe, expect, it } from 'vitest';
import { interpolate, interpolated, portMapping } from './compose-file.js';

describe('interpolate', () => {
  it('substitutes as compose does: defaults with and without a colon, $$, required variables', () => {
    const env = { SET: 'x', EMPTY: '' };
    expect(interpolate('${SET} ${UNSET}', env)).toBe('x ');
    expect(interpolate('${EMPTY:-d} ${EMPTY-d} ${UNSET-d}', env)).toBe('d  d');
    expect(interpolate('$$HOME costs $$5', env)).toBe('$HOME costs $5');
    expect(() => interpolate('${UNSET:?must be set}', env)).toThrow('compose refuses: UNSET must be set');
    expect(interpolate('${EMPTY?never}', env)).toBe('');
  });

  it('reaches every string in a document', () => {
    expect(interpolated({ a: ['${V}', 1], b: { c: '${V:-no}' } }, { V: 'yes' })).toEqual({
      a: ['yes', 1],
      b: { c: 'yes' },
    });
  });
});

describe('portMapping', () => {
  it('reads the short syntax [HOST_IP:][PUBLISHED:]TARGET[/PROTOCOL]', () => {
    expect(portMapping('53')).toEqual({ target: 53 });
    expect(portMapping('8053:8053')).toEqual({ target: 8053, published: 8053 });
    expect(portMapping('127.0.0.1:53:5353/udp')).toEqual({
      target: 5353,
      published: 53,
      protocol: 'udp',
      host_ip: '127.0.0.1',
    });
    expect(portMapping('[::1]:53:53/tcp')).toEqual({ target: 53, published: 53, protocol: 'tcp', host_ip: '::1' });
    expect(portMapping(80)).toEqual({ target: 80 });
    expect(portMapping('not a port')).toBeUndefined();
  });

  it('passes the long syntax through', () => {
    const long = { target: 53, published: '53', protocol: 'udp' };
    expect(portMapping(long)).toBe(long);
  });
});
