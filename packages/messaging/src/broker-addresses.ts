/**
 * What `RABBITMQ_URL` may hold: one AMQP URL, or the URLs of a cluster's nodes separated by commas. The
 * client tries the addresses in turn on every (re)connection: a node that dies is replaced by the next.
 */
export const RABBITMQ_URLS_PATTERN = '^amqps?://[^,\\s]+(,\\s*amqps?://[^,\\s]+)*$';

/** The rabbitmq-client options for `urls`: the first URL (credentials, vhost, TLS, query) and every host. */
export interface BrokerAddresses {
  url: string;
  /** `host:port` of each node, starting at a random one. */
  hosts: string[];
}

/**
 * Reads `RABBITMQ_URL` (see RABBITMQ_URLS_PATTERN). Every URL must name the same scheme, user, password,
 * vhost and query: they are one broker's nodes, and the client takes all but the address from the first.
 * The list starts at a random node, so that a system's connections, and the quorum queue leaders RabbitMQ
 * places on the node a queue is declared through (its default `client-local` leader locator), spread over
 * the cluster. Throws an Error naming the URL that differs.
 */
export function brokerAddresses(urls: string, random: () => number = Math.random): BrokerAddresses {
  const parsed = urls.split(',').map((text) => new URL(text.trim()));
  const [first] = parsed;
  if (!first) throw new Error('RABBITMQ_URL: no URL');
  // The vhost as the client reads it: `amqp://h` and `amqp://h/` both name `/`.
  const vhost = (url: URL) => decodeURIComponent(url.pathname.slice(1)) || '/';
  const shared = (url: URL) => `${url.protocol}//${url.username}:${url.password}@${vhost(url)}${url.search}`;
  for (const url of parsed) {
    if (shared(url) !== shared(first)) {
      throw new Error(
        `RABBITMQ_URL: ${url.host} differs from ${first.host} in scheme, credentials, vhost or options; ` +
          "a cluster's nodes share them",
      );
    }
  }
  const hosts = parsed.map(
    (url) => `${url.hostname}:${url.port || (url.protocol === 'amqps:' ? 5671 : 5672)}`,
  );
  const start = Math.floor(random() * hosts.length);
  return { url: first.toString(), hosts: [...hosts.slice(start), ...hosts.slice(0, start)] };
}
