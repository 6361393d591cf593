// The Meridian configuration every process of the failover bench reads: three PoPs in one pool
// (Frankfurt A, New York B, London C), the default health settings, a zone with one routed name.
import { IP } from './netns.mjs';

export const TOKEN = 'bench-token';
export const CONTROL = `http://${IP.dns}:8053`;
/** The defaults (interval 1 s, timeout 500 ms, fall 3, rise 2), written out so the report can say them; route TTL 30 s. */
export const SETTINGS = { interval: 1000, timeout: 500, fall: 3, rise: 2, ttl: 30 };

export function configYaml() {
  return `
dns:
  serverId: ns1.mrd.test
  listen: ["${IP.dns}:53"]
  control: { listen: "${IP.dns}:8053", token: ${TOKEN} }
pops:
  - { id: a, name: Frankfurt, location: { lat: 50.11, lon: 8.68 }, ipv4: [${IP.a}], edge: "http://${IP.a}" }
  - { id: b, name: New York, location: { lat: 40.71, lon: -74.01 }, ipv4: [${IP.b}], edge: "http://${IP.b}" }
  - { id: c, name: London, location: { lat: 51.51, lon: -0.13 }, ipv4: [${IP.c}], edge: "http://${IP.c}" }
pools:
  - { id: edge, members: [a, b, c], policy: nearest, fallback: a }
health:
  check: { type: http, path: /healthz }
  interval: ${SETTINGS.interval}ms
  timeout: ${SETTINGS.timeout}ms
  fall: ${SETTINGS.fall}
  rise: ${SETTINGS.rise}
  reportTo: ["${CONTROL}"]
  latency: { resolvers: 0 }
geo:
  nets: [{ network: 10.0.0.0/8, location: { lat: 49.99, lon: 8.27 } }]
zones:
  - name: mrd.test
    soa: { mname: ns1.mrd.test., rname: hostmaster.mrd.test., serial: 1 }
    ns: [ns1.mrd.test.]
    records: [{ name: ns1, type: A, value: ${IP.dns} }]
    routes: [{ name: www, pool: edge, ttl: ${SETTINGS.ttl} }]
`;
}
