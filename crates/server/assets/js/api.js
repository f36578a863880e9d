// The HTTP API: JSON in and out, problem+json errors as ApiError (with the
// refused `field`), the API token sent when the server asks for one.

import { KINDS } from './kinds.js';
import { askToken, token } from './token.js';

/** A refused or failed request: `status`, `detail`, and `field` for 422s. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.field = problem?.field ?? null;
    this.problem = problem ?? null;
  }
}

async function readProblem(res) {
  const text = await res.text().catch(() => '');
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text || `${res.status} ${res.statusText}` };
  }
}

/**
 * One request. `json` is sent as a JSON body, `form` as multipart; answers
 * are parsed JSON. A 401 asks for the token (once) and retries.
 */
export async function request(path, { method = 'GET', json, form, signal } = {}) {
  for (let attempt = 0; ; attempt += 1) {
    const headers = { accept: 'application/json' };
    const t = token();
    if (t) headers.authorization = `Bearer ${t}`;
    let body;
    if (json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(json);
    } else if (form) {
      body = form;
    }
    let res;
    try {
      res = await fetch(path, { method, headers, body, signal });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new ApiError(0, { detail: `cannot reach the server (${e.message})` });
    }
    if (res.status === 401 && attempt < 3) {
      const problem = await readProblem(res);
      if (await askToken(problem.detail)) continue;
      throw new ApiError(401, problem);
    }
    if (!res.ok) throw new ApiError(res.status, await readProblem(res));
    const type = res.headers.get('content-type') ?? '';
    return type.includes('json') ? res.json() : res.text();
  }
}

/** GET `path` (with `query` params, empty ones left out). */
export function get(path, query, opts) {
  return request(path + qs(query), opts);
}

/** POST a JSON body. */
export function post(path, json, opts) {
  return request(path, { ...opts, method: 'POST', json });
}

/** `?a=1&b=2` from an object, without null / empty values. */
export function qs(query) {
  if (!query) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v != null && v !== '') p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** The URL of a run's event stream (EventSource cannot send headers). */
export function eventsUrl(base) {
  const t = token();
  return t ? `${base}/events?access_token=${encodeURIComponent(t)}` : `${base}/events`;
}

/** `/api/backtests`, `/api/optimizations` or `/api/walkforwards` (and `/{id}`). */
export function runBase(kind, id) {
  const root = KINDS[kind].api;
  return id ? `${root}/${encodeURIComponent(id)}` : root;
}
