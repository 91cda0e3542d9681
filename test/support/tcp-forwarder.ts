import net from 'node:net';

export interface TcpForwarder {
  /** The loopback port to connect to instead of the target's. */
  port: number;
  /** Breaks every connection through it and refuses new ones, as a database server that went away. */
  cut(): Promise<void>;
  /**
   * Breaks every connection through it and takes new ones without ever
   * answering, as a server whose machine stopped answering on the network.
   */
  stall(): Promise<void>;
  /** Forwards new connections again, on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A TCP hop between NetID and its PostgreSQL server that a test can cut, to
 * see what relying parties and people get while the database cannot be
 * reached, and restore, to see NetID recover without a restart.
 */
export async function startTcpForwarder(target: { host: string; port: number }): Promise<TcpForwarder> {
  const sockets = new Set<net.Socket>();
  let stalled = false;
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A broken hop is what this is for; its errors are the other side's to see.
    socket.on('error', () => undefined);
  };

  const server = net.createServer((inbound) => {
    track(inbound);
    if (stalled) return;
    const outbound = net.connect(target.port, target.host);
    track(outbound);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });

  await listen(0);
  const { port } = server.address() as net.AddressInfo;

  // resetAndDestroy: the other side sees the connection reset, as when a server dies, not a polite close.
  const breakConnections = () => {
    for (const socket of sockets) socket.resetAndDestroy();
  };

  const cut = async () => {
    if (server.listening) {
      const closed = new Promise((resolve) => server.close(resolve));
      breakConnections();
      await closed;
    }
  };

  return {
    port,
    cut,
    async stall() {
      stalled = true;
      breakConnections();
    },
    async restore() {
      stalled = false;
      breakConnections();
      if (!server.listening) await listen(port);
    },
    close: cut,
  };
}
