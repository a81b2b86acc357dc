/** A small seeded generator of hostile input, so a failing case can be reproduced from its seed and index. */
export class Fuzz {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** mulberry32: uniform in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(max: number): number {
    return Math.floor(this.next() * max);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  /** Bytes of any value, including NUL, CR/LF and invalid UTF-8. */
  bytes(max: number): Buffer {
    return Buffer.from(Array.from({ length: this.int(max + 1) }, () => this.int(256)));
  }

  /** A string of a random kind: ASCII, control characters, unicode (astral, combining, RTL), lone surrogates, or very long. */
  string(max = 40): string {
    const n = this.int(max + 1);
    const kind = this.int(7);
    const from = (chars: string[]) => Array.from({ length: n }, () => this.pick(chars)).join('');
    switch (kind) {
      case 0:
        return from([...'abcdefghijklmnopqrstuvwxyz0123456789-_.:/']);
      case 1:
        return from(['\0', '\n', '\r', '\t', '\u001b', '\u007f', ' ', '"', "'", '\\', '%', '&', '=', '#', '?', '[', ']', '{', '}', '*', '!', '|', '>', '<', '@', '`']);
      case 2:
        return from(['é', 'ß', 'Ω', '中', '😀', '\u0301', '\u200b', '\u202e', '\ufeff', '\uffff', '𝕏', 'ﷺ']);
      case 3:
        return from(['\ud800', '\udfff', 'a', '\ud83d']);
      case 4:
        return 'x'.repeat(this.pick([1000, 10_000, 100_000]));
      case 5:
        return this.pick(['30s', '0s', '-1s', '1e400', 'NaN', 'Infinity', '-0', '9007199254740993', '0x10', '1h30m', '999999999w', 'true', 'null', '~', '2026-13-45T99:99:99Z', '1970-01-01T00:00:00Z', '']);
      default:
        return this.bytes(max).toString('latin1');
    }
  }

  /** A JSON-like value of any type, nested up to `depth` levels. */
  value(depth = 3): unknown {
    const k = this.int(depth > 0 ? 9 : 6);
    switch (k) {
      case 0:
        return this.string();
      case 1:
        return this.pick([0, -1, 1.5, 2 ** 53 + 1, -(2 ** 31), 1e308, Number.MAX_SAFE_INTEGER, 65536, 0.0001]);
      case 2:
        return this.bool();
      case 3:
        return null;
      case 4:
        return this.pick(['30s', '1m', ':10924', '127.0.0.1:0', 'info', 'debug', '/tmp', 'vigil']);
      case 5:
        return [];
      case 6:
      case 7:
        return Object.fromEntries(Array.from({ length: this.int(5) }, () => [this.key(), this.value(depth - 1)]));
      default:
        return Array.from({ length: this.int(4) }, () => this.value(depth - 1));
    }
  }

  key(known: readonly string[] = []): string {
    return known.length > 0 && this.bool(0.7) ? this.pick(known) : this.string(12);
  }

  /** The text with one hostile edit: truncated, a byte flipped, garbage inserted, or a line repeated. */
  mutate(text: string): string {
    const at = this.int(text.length + 1);
    switch (this.int(5)) {
      case 0:
        return text.slice(0, at);
      case 1:
        return text.slice(0, at) + String.fromCharCode(this.int(256)) + text.slice(at + 1);
      case 2:
        return text.slice(0, at) + this.string(20) + text.slice(at);
      case 3: {
        const lines = text.split('\n');
        const i = this.int(lines.length);
        return [...lines.slice(0, i), lines[i] ?? '', ...lines.slice(i)].join('\n');
      }
      default:
        return text.slice(0, at) + this.pick(['\t', ': ', '- ', '[', '{', '&a ', '*a', '!!binary ', '? ', '|', '>', '%YAML 1.1\n---\n', '\n  ']) + text.slice(at);
    }
  }
}

/** Deeply nested YAML flow collections: a stack-depth attack on the parser. */
export function deepYaml(depth: number, open = '[', close = ']'): string {
  return `${open.repeat(depth)}${close.repeat(depth)}\n`;
}

/** The classic alias expansion bomb. */
export const ALIAS_BOMB = [
  'a: &a ["x","x","x","x","x","x","x","x","x"]',
  ...Array.from(
    { length: 8 },
    (_, i) =>
      `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
        .fill(`*${String.fromCharCode(97 + i)}`)
        .join(',')}]`,
  ),
].join('\n');

/** encodeURIComponent for any string: surrogates (paired or not) become U+FFFD first. */
export const uriEncode = (text: string): string => encodeURIComponent(text.replace(/[\ud800-\udfff]/g, '\ufffd'));
