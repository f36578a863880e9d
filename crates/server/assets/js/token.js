// The API token of a server started with --api-token: asked for once (on
// the first 401), kept in localStorage, sent as `Authorization: Bearer`.

import { promptDialog } from './ui/dialog.js';

const KEY = 'atf.apiToken';

/** The stored token, or null. */
export function token() {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

function store(value) {
  try {
    if (value) localStorage.setItem(KEY, value);
    else localStorage.removeItem(KEY);
  } catch {
    // private mode: the token lives as long as the page
  }
}

let asking = null;

/**
 * Asks for the token (one dialog however many requests are refused at
 * once); resolves to true when one was given.
 */
export function askToken(reason) {
  if (!asking) {
    asking = promptDialog({
      title: 'API token required',
      message: `${reason ?? 'This server requires a token.'} Enter the token it was started with (--api-token); it is kept in this browser.`,
      label: 'API token',
      type: 'password',
      submit: 'Use token',
    }).then((value) => {
      asking = null;
      if (value) store(value);
      return Boolean(value);
    });
  }
  return asking;
}
