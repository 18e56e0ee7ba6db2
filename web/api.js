// The admin API as the page uses it (docs/admin-api.md): bearer token, JSON in and out, ETags.

export class ApiError extends Error {
  // errors: [{path, message}] as the API sends them.
  constructor(status, errors) {
    super(errors.map((e) => (e.path ? `${e.path}: ` : '') + e.message).join('; ') || `HTTP ${status}`);
    this.status = status;
    this.errors = errors;
  }
}

export class Api {
  constructor(token) {
    this.token = token;
  }

  // {status, body, etag}; throws ApiError on a status >= 400.
  async request(method, path, body, etag) {
    const headers = { Authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (etag) headers['If-Match'] = etag;
    let response;
    try {
      response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new ApiError(0, [{ path: '', message: `the daemon did not answer (${e.message})` }]);
    }
    const text = await response.text();
    let parsed = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (!response.ok) {
      const errors = parsed && Array.isArray(parsed.errors) ? parsed.errors : [{ path: '', message: `HTTP ${response.status}` }];
      throw new ApiError(response.status, errors);
    }
    return { status: response.status, body: parsed, etag: response.headers.get('ETag') };
  }

  get(path) { return this.request('GET', path); }
  post(path, body, etag) { return this.request('POST', path, body, etag); }
  put(path, body, etag) { return this.request('PUT', path, body, etag); }
  del(path, etag) { return this.request('DELETE', path, undefined, etag); }
}

// "/api/accounts/<key>" with the key percent-encoded.
export function accountPath(key, ...rest) {
  return ['/api/accounts', encodeURIComponent(key), ...rest.map((r) => encodeURIComponent(r))].join('/');
}
