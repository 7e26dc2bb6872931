import net from 'node:net';

/** A TCP forwarder between a client under test and a real server, whose path a test can cut and restore. */
export interface TcpProxy {
  port: number;
  /** Rewrites a URL's host and port to go through the proxy. */
  url(target: string): string;
  /** Destroys every open connection and refuses new ones, as a dead server would. */
  cut(): Promise<void>;
  /** Accepts connections again, on the same port. */
  restore(): Promise<void>;
  /**
   * Stops forwarding anything, in either direction, while every connection stays open and new ones are
   * accepted: a server that hangs (a frozen process, a peer gone without a reset), not one that is down.
   */
  freeze(): void;
  /** Forwards again what was held, and everything after it. */
  thaw(): void;
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port forwarding to `target` (`host:port`). */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let frozen = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
    // After pipe(), which starts the flow.
    if (frozen) for (const socket of [client, upstream]) socket.pause();
  });
  const listen = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stopListening = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server.listening) {
        resolve();
        return;
      }
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });

  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url(targetUrl) {
      const url = new URL(targetUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    cut: stopListening,
    restore: () => listen(port),
    freeze() {
      frozen = true;
      for (const socket of sockets) socket.pause();
    },
    thaw() {
      frozen = false;
      for (const socket of sockets) socket.resume();
    },
    close: stopListening,
  };
}
