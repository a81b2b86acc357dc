// @ts-check
// Requests to the agent that served the page. Agents configured with a peer token guard their API
// with it; the page asks for it once and keeps it for this tab only.

/** @import { ClusterStatus, LocalStatusWithPeers } from '../../status/cluster-types.ts' */
/** @import { LocalStatusReport } from '../../status/local.ts' */
/** @import { ClusterHistoryPage, LocalHistoryPage } from '../../history/api-types.ts' */

/** The local status: an agent with peers also reports what it sees of them. */
/** @typedef {LocalStatusReport & Partial<Pick<LocalStatusWithPeers, 'peers'>>} LocalStatus */

const TOKEN_KEY = 'vigil-peer-token';
const FETCH_TIMEOUT_MS = 8000;

/** @param {string} token */
export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** An answer other than 2xx, with its status. */
export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {number} status
   */
  constructor(message, status) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

/**
 * What one refresh learnt about the token: whether any answer refused the request for want of it,
 * and whether a refused request carried one (only then is the token the user gave known to be wrong).
 * @typedef {{ refused: boolean; tokenRefused: boolean }} Auth
 */

/** @returns {Auth} */
export const newAuth = () => ({ refused: false, tokenRefused: false });

/**
 * The JSON body of a GET, as the agent's API declares it.
 * @param {string} url
 * @param {Auth} auth what this request's answer says about the token is added here
 * @returns {Promise<unknown>}
 */
async function get(url, auth) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json' };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers });
  if (res.status === 401) {
    auth.refused = true;
    if (token) auth.tokenRefused = true;
  }
  /** @type {unknown} */
  let body = null;
  try {
    body = await res.json();
  } catch {
    // not JSON: the status line below says what went wrong
  }
  if (!res.ok) {
    const error = typeof body === 'object' && body !== null && 'error' in body ? String(body.error) : null;
    throw new ApiError(error ? `${url}: HTTP ${res.status}: ${error}` : `${url}: HTTP ${res.status}`, res.status);
  }
  return body;
}

// The agent's answers are taken to have the shapes its API types declare (src/status, src/history).
export const api = {
  /** @param {Auth} auth */
  status: (auth) => /** @type {Promise<ClusterStatus>} */ (get('api/v1/status', auth)),
  /** @param {Auth} auth */
  localStatus: (auth) => /** @type {Promise<LocalStatus>} */ (get('api/v1/status/local', auth)),
  /**
   * @param {URLSearchParams} q
   * @param {Auth} auth
   */
  history: (q, auth) => /** @type {Promise<ClusterHistoryPage>} */ (get(`api/v1/history?${q}`, auth)),
  /**
   * @param {URLSearchParams} q
   * @param {Auth} auth
   */
  localHistory: (q, auth) => /** @type {Promise<LocalHistoryPage>} */ (get(`api/v1/history/local?${q}`, auth)),
};
