// prom-client's own modules (src/metrics/prom.ts gives them their types from prom-client's index).
declare module 'prom-client/lib/*.js' {
  const value: unknown;
  export default value;
}
