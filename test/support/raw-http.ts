import net from 'node:net';

/** Sends raw bytes to host:port and collects everything the server sends until it closes (or the timeout). */
export function rawExchange(port: number, payload: Buffer | string, opts: { timeoutMs?: number; host?: string } = {}): Promise<{ text: string; closed: boolean; elapsedMs: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    const socket = net.connect({ port, host: opts.host ?? '127.0.0.1' });
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed, elapsedMs: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), opts.timeoutMs ?? 10_000);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.write(payload);
  });
}

/** The status code and JSON body of a raw HTTP/1.1 response. */
export function parseRaw(text: string): { status: number; body: unknown } {
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(text);
  if (!m) throw new Error(`not an HTTP response: ${JSON.stringify(text.slice(0, 80))}`);
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  return { status: Number(m[1]), body: body === '' ? undefined : (JSON.parse(body) as unknown) };
}
