// Where the DNS server's control port is when nothing says otherwise, written once: the server's
// default `dns.control.listen` and the default URL of every client command (`status`, `explain`,
// `pop`) are this one address.
import { formatHostPort, type HostPort } from './host-port.js';

export const DEFAULT_DNS_CONTROL_LISTEN: HostPort = { host: '127.0.0.1', port: 8053 };

export const DEFAULT_CONTROL_URL = `http://${formatHostPort(DEFAULT_DNS_CONTROL_LISTEN)}`;

/** The environment variable a client's --control defaults to, before DEFAULT_CONTROL_URL. */
export const CONTROL_URL_ENV = 'MERIDIAN_CONTROL';
