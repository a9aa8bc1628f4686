// The sockets a master holds: bound before any worker exists (the workers inherit the
// descriptors), their accept queues watched once a second, their numbers in the stats
// and /metrics, closed when the master stops accepting, their files removed (--vacuum)
// when it ends.
import type { NativeBinding } from '../addon/binding.js';
import type { SocketProtocol } from '../backend/backend.js';
import { bindSockets } from '../backend/sockets.js';
import { socketsOf } from '../config/derived.js';
import { removeSocketFile } from '../backend/unix-socket.js';
import type { Config } from '../config/typed.js';
import { formatAddress } from '../protocol/address.js';
import { ListenQueueWatch, effectiveBacklog } from './listen-queue.js';

interface Socket {
  fd: number;
  protocol: SocketProtocol;
  /** The bound port, "" for a unix socket: SERVER_PORT in the workers. */
  port: string;
  /** "TCP address 127.0.0.1:9090", "UNIX address /run/app.sock". */
  shown: string;
  /** A socket file this master made. */
  path?: string;
}

/** One socket's line in the stats document and /metrics. */
export interface SocketStats {
  name: string;
  proto: string;
  queue: number;
  maxQueue: number;
  queueFull: number;
}

export class MasterSockets {
  private readonly list: Socket[] = [];
  private queues?: ListenQueueWatch;

  private constructor(
    private readonly binding: NativeBinding,
    private readonly log: (line: string) => void,
  ) {}

  /** Binds every socket the options ask for; on a failure, closes what was bound and throws. */
  static async bind(config: Config, binding: NativeBinding, log: (line: string) => void): Promise<MasterSockets> {
    const sockets = new MasterSockets(binding, log);
    const backlog = effectiveBacklog(config.listen, log);
    // Each socket is kept as soon as it is bound, so that a later failure closes it.
    const keep = (s: Socket) => (sockets.list.push(s), s);
    await bindSockets<Socket>(
      socketsOf(config),
      config,
      {
        tcp: (host, port, protocol) => {
          const [fd, address, boundPort] = binding.bindTcp(host, port, backlog);
          return keep({ fd, protocol, port: String(boundPort), shown: `TCP address ${formatAddress(address, boundPort)}` });
        },
        unix: (path, protocol) => {
          const fd = binding.bindUnix(path, backlog);
          return keep({ fd, protocol, port: '', shown: `UNIX address ${path}`, path: path.startsWith('@') ? undefined : path });
        },
      },
      () => sockets.close(false),
    );
    return sockets;
  }

  get count(): number {
    return this.list.length;
  }

  /** The descriptors, in order: what a worker inherits. */
  get fds(): number[] {
    return this.list.map((s) => s.fd);
  }

  /** What a worker is told of each socket it inherits at fd first, first + 1, ... */
  inherited(first: number): { fd: number; protocol: SocketProtocol; port: string }[] {
    return this.list.map((s, i) => ({ fd: first + i, protocol: s.protocol, port: s.port }));
  }

  /** Logs each socket, and starts watching their accept queues. */
  announce(): void {
    for (const [i, s] of this.list.entries()) this.log(`tsgi: socket ${i} bound to ${s.shown} (${s.protocol}) fd ${s.fd}`);
    this.queues = new ListenQueueWatch(
      this.list.map((s) => ({ name: socketName(s), fd: s.fd })),
      (fd) => this.binding.listenQueue(fd),
      this.log,
    ).start();
  }

  /** How often an accept queue was found full, all sockets together. */
  get overflows(): number {
    return this.queues?.overflows ?? 0;
  }

  /** Each socket's queue now, the backlog the kernel gave it, and how often it was found full. */
  stats(): SocketStats[] {
    return this.list.map((s, i) => {
      const q = this.queues?.sockets[i];
      const now = s.fd >= 0 ? this.binding.listenQueue(s.fd) : undefined;
      return {
        name: socketName(s),
        proto: s.protocol,
        queue: now?.length ?? 0,
        maxQueue: now?.backlog ?? q?.backlog ?? 0,
        queueFull: q?.overflows ?? 0,
      };
    });
  }

  /** Closes the master's descriptors (the workers' copies and the files stay). */
  closeListening(): void {
    this.queues?.stop();
    for (const s of this.list) {
      if (s.fd >= 0) this.binding.closeFd(s.fd);
      s.fd = -1;
    }
  }

  /** Closes the descriptors and, with vacuum, removes the socket files made. */
  close(vacuum: boolean): void {
    this.closeListening();
    if (vacuum) for (const s of this.list) if (s.path) removeSocketFile(s.path);
    this.list.length = 0;
  }
}

/** A socket as the stats document and the queue's log line name it: "127.0.0.1:9090". */
function socketName(s: Socket): string {
  return s.shown.replace(/^(TCP|UNIX) address /, '');
}
