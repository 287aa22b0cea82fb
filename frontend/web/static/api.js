// The API client: every call goes to the base URL that the frontend server
// hands out in /config.json, and every failure becomes an ApiError whose
// message can be shown to a person as it is.

export const REQUEST_TIMEOUT_MS = 10000;

export class ApiError extends Error {
  constructor(message, { status = 0, unreachable = false } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.unreachable = unreachable;
  }
}

// loadConfig asks the server that served this page which API to use.
export async function loadConfig() {
  let res;
  try {
    res = await fetch('config.json', { cache: 'no-store', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (err) {
    throw new ApiError(`This page's server is unreachable (config.json): ${reason(err)}`, { unreachable: true });
  }
  if (!res.ok) {
    throw new ApiError(`This page's server answered ${res.status} for config.json`, { status: res.status });
  }
  const cfg = await res.json().catch(() => null);
  const apiUrl = cfg && typeof cfg.apiUrl === 'string' ? cfg.apiUrl.trim() : '';
  if (!/^https?:\/\/[^/]/i.test(apiUrl)) {
    throw new ApiError(`config.json has no usable apiUrl (got ${JSON.stringify(apiUrl)})`);
  }
  return apiUrl.replace(/\/+$/, '');
}

export class Api {
  constructor(baseUrl) {
    this.baseUrl = baseUrl;
  }

  listTodos() { return this.request('GET', '/todo'); }
  addTodo(title, label) { return this.request('POST', '/todo', { title, label }); }
  updateTodo(id, changes) { return this.request('PUT', `/todo/${encodeURIComponent(id)}`, changes); }
  deleteTodo(id) { return this.request('DELETE', `/todo/${encodeURIComponent(id)}`); }
  listImages() { return this.request('GET', '/carrousel'); }

  async request(method, path, body) {
    const init = {
      method,
      headers: { Accept: 'application/json' },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(this.baseUrl + path, init);
    } catch (err) {
      throw new ApiError(`Backend unreachable at ${this.baseUrl}: ${reason(err)}`, { unreachable: true });
    }
    const text = await res.text().catch(() => '');
    let data = null;
    let parsed = true;
    if (text) {
      try { data = JSON.parse(text); } catch { parsed = false; }
    }
    if (!res.ok) {
      throw new ApiError(failureMessage(res, parsed ? data : null), { status: res.status });
    }
    if (!parsed) {
      throw new ApiError(`The backend sent something that is not JSON for ${method} ${path}`, { status: res.status });
    }
    return data;
  }
}

// failureMessage prefers the API's own {"error": "..."} text: for a 4xx it is
// written for the user ("title is required"); for a 5xx the status comes first.
function failureMessage(res, data) {
  const apiMessage = data && typeof data.error === 'string' ? data.error.trim() : '';
  if (res.status < 500 && apiMessage) {
    return apiMessage;
  }
  const status = `${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
  return `the backend answered ${status}${apiMessage ? `: ${apiMessage}` : ''}`;
}

function reason(err) {
  if (err && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  }
  return (err && err.message) || String(err);
}
