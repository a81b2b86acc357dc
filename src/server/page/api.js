// Requests to the agent that served the page. Agents configured with a peer token guard their API
// with it; the page asks for it once and keeps it for this tab only.

const TOKEN_KEY = 'vigil-peer-token';
const FETCH_TIMEOUT_MS = 8000;

export const hasToken = () => sessionStorage.getItem(TOKEN_KEY) !== null;

export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export const api = {
  /** Set when a request was refused for want of the token; the caller clears it per refresh. */
  refused: false,

  async get(url) {
    const headers = { accept: 'application/json' };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers });
    if (res.status === 401) api.refused = true;
    let body = null;
    try {
      body = await res.json();
    } catch {
      // not JSON: the status line below says what went wrong
    }
    if (!res.ok) {
      const err = new Error(body?.error ? `${url}: HTTP ${res.status}: ${body.error}` : `${url}: HTTP ${res.status}`);
      err.status = res.status;
      throw err;
    }
    return body;
  },
};
