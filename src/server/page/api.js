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

export const hasToken = () => sessionStorage.getItem(TOKEN_KEY) !== null;

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
 * The JSON body of a GET, as the agent's API declares it.
 * @param {string} url
 * @returns {Promise<unknown>}
 */
async function get(url) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json' };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers });
  if (res.status === 401) api.refused = true;
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
  /** Set when a request was refused for want of the token; the caller clears it per refresh. */
  refused: false,
  status: () => /** @type {Promise<ClusterStatus>} */ (get('api/v1/status')),
  localStatus: () => /** @type {Promise<LocalStatus>} */ (get('api/v1/status/local')),
  /** @param {URLSearchParams} q */
  history: (q) => /** @type {Promise<ClusterHistoryPage>} */ (get(`api/v1/history?${q}`)),
  /** @param {URLSearchParams} q */
  localHistory: (q) => /** @type {Promise<LocalHistoryPage>} */ (get(`api/v1/history/local?${q}`)),
};
