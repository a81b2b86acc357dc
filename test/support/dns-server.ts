import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

/** How the server answers one name. */
export type DnsAnswer = { a?: string[]; aaaa?: string[]; delayMs?: number } | { rcode: 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED' } | { drop: true };

const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

/** A tiny authoritative DNS server over UDP on loopback, answering A/AAAA as a test tells it. */
export class TestDnsServer {
  readonly answers = new Map<string, DnsAnswer>();
  queries = 0;
  readonly #socket: Socket;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('message', (msg, rinfo) => this.#onQuery(msg, rinfo));
  }

  static async start(): Promise<TestDnsServer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    return new TestDnsServer(socket);
  }

  get address(): string {
    const a = this.#socket.address();
    return `${a.address}:${a.port}`;
  }

  #onQuery(msg: Buffer, rinfo: RemoteInfo): void {
    if (msg.length < 12) return;
    this.queries++;
    let off = 12;
    const labels: string[] = [];
    while (off < msg.length && msg[off] !== 0) {
      const len = msg[off]!;
      labels.push(msg.subarray(off + 1, off + 1 + len).toString('ascii'));
      off += len + 1;
    }
    off += 1;
    const qtype = msg.readUInt16BE(off);
    const question = msg.subarray(12, off + 4);
    const name = labels.join('.').toLowerCase();
    const answer = this.answers.get(name) ?? { rcode: 'NXDOMAIN' as const };
    if ('drop' in answer) return;
    const rcode = 'rcode' in answer ? RCODE[answer.rcode] : RCODE.NOERROR;
    const records = 'rcode' in answer ? [] : qtype === 1 ? (answer.a ?? []) : qtype === 28 ? (answer.aaaa ?? []) : [];
    const rrs = records.map((ip) => {
      const rdata = qtype === 1 ? Buffer.from(ip.split('.').map(Number)) : ipv6Bytes(ip);
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name
      rr.writeUInt16BE(qtype, 2);
      rr.writeUInt16BE(1, 4); // IN
      rr.writeUInt32BE(30, 6);
      rr.writeUInt16BE(rdata.length, 10);
      return Buffer.concat([rr, rdata]);
    });
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0);
    header.writeUInt16BE(0x8000 | 0x0400 | (msg.readUInt16BE(2) & 0x0100) | 0x0080 | rcode, 2); // QR AA RD RA rcode
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(rrs.length, 6);
    const reply = Buffer.concat([header, question, ...rrs]);
    const send = () => this.#socket.send(reply, rinfo.port, rinfo.address);
    const delay = 'delayMs' in answer ? (answer.delayMs ?? 0) : 0;
    if (delay > 0) setTimeout(send, delay).unref();
    else send();
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }
}

function ipv6Bytes(ip: string): Buffer {
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g || '0', 16), i * 2));
  return b;
}
