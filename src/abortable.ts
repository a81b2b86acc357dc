/**
 * Settles with `p`, or rejects with the signal's reason as soon as it aborts. The client calls take
 * no signal, so an aborted call is abandoned (its socket closes on its own), not cancelled.
 */
export function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes on whatever the call threw
        reject(err);
      },
    );
  });
}

/** Resolves once `p` settles or the signal aborts, whichever comes first; never rejects. */
export function settledOrAborted(p: Promise<unknown>, signal: AbortSignal): Promise<void> {
  return abortable(p, signal).then(
    () => undefined,
    () => undefined,
  );
}
