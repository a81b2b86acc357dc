// @ts-check
// The page's only way to make elements: attributes and text are set as such, never parsed as
// markup, so nothing from the API can inject HTML.

/**
 * The page's element with the id, of the given class; throws naming it when the page has none
 * (the HTML the agent serves and this script disagree: a bug, not a state to draw).
 * @template {HTMLElement} [T=HTMLElement]
 * @param {string} id
 * @param {{ new (): T; prototype: T }} [type]
 * @returns {T}
 */
export function $(id, type) {
  const e = document.getElementById(id);
  const want = type ?? HTMLElement;
  if (!(e instanceof want)) throw new Error(`the page has no ${want.name} #${id}`);
  return /** @type {T} */ (e);
}

/** @typedef {string | number | boolean | null | undefined | ((event: Event) => void)} AttrValue */
/** @typedef {Node | string | number | null | undefined} Child */

/**
 * An element with attributes (`class`, `text` for its text, `on<event>` for a listener; null,
 * undefined and false leave the attribute out) and children (strings become text).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, AttrValue> | null} attrs
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === 'function') {
      if (!k.startsWith('on')) throw new Error(`${tag}: a function for the attribute ${k}`);
      e.addEventListener(k.slice(2), v);
    } else if (k === 'class') e.className = String(v);
    else if (k === 'text') e.textContent = String(v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

/**
 * Runs a render that replaces elements, then gives keyboard focus back to the control that had
 * it, found again by its `data-key` (a stable name: "the button of probe etcd on node-2"), so a
 * refresh does not throw a keyboard user's place away.
 * @param {() => void} render
 */
export function keepingFocus(render) {
  const before = document.activeElement;
  const key = before instanceof HTMLElement ? before.dataset.key : undefined;
  render();
  if (key === undefined || (before?.isConnected && document.activeElement === before)) return;
  for (const e of document.querySelectorAll('[data-key]')) {
    if (e instanceof HTMLElement && e.dataset.key === key) {
      e.focus({ preventScroll: true });
      return;
    }
  }
}
