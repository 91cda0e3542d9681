import net from 'node:net';

export interface TcpForwarder {
  /** The loopback port to connect to instead of the target's. */
  port: number;
  /** Breaks every connection through it and refuses new ones, as a database server that went away. */
  cut(): Promise<void>;
  /** Accepts connections again, on the same port. */
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
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A broken hop is what this is for; its errors are the other side's to see.
    socket.on('error', () => undefined);
  };

  const server = net.createServer((inbound) => {
    track(inbound);
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
  let listening = true;

  const cut = async () => {
    if (listening) {
      listening = false;
      const closed = new Promise((resolve) => server.close(resolve));
      // resetAndDestroy: the other side sees the connection reset, as when a server dies, not a polite close.
      for (const socket of sockets) socket.resetAndDestroy();
      await closed;
    }
  };

  return {
    port,
    cut,
    async restore() {
      if (!listening) {
        await listen(port);
        listening = true;
      }
    },
    close: cut,
  };
}
