// The parts of prom-client the agent uses, each from its own module. prom-client's index also
// loads its Pushgateway (node's https and zlib) and AggregatorRegistry (node's cluster), which
// the agent never uses and every agent would otherwise carry. These deep paths are not part of
// prom-client's public API, so package.json pins it to a tilde range (patch releases only): a
// minor release that moves a file must fail here, at the build, not in production.
import type * as Prom from 'prom-client';
import counter from 'prom-client/lib/counter.js';
import defaultMetrics from 'prom-client/lib/defaultMetrics.js';
import gauge from 'prom-client/lib/gauge.js';
import histogram from 'prom-client/lib/histogram.js';
import registry from 'prom-client/lib/registry.js';

export const Registry = registry as typeof Prom.Registry;
export type Registry = Prom.Registry;
export const Counter = counter as typeof Prom.Counter;
export type Counter<T extends string = string> = Prom.Counter<T>;
export const Gauge = gauge as typeof Prom.Gauge;
export type Gauge<T extends string = string> = Prom.Gauge<T>;
export const Histogram = histogram as typeof Prom.Histogram;
export type Histogram<T extends string = string> = Prom.Histogram<T>;
export const collectDefaultMetrics = defaultMetrics as typeof Prom.collectDefaultMetrics;
