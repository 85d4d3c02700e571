import { describe, expect, it } from 'vitest';
import { ApiError, apiErrorFromResponse, errorMessage, fallbackMessage, messageFromDetail } from './errors';

describe('messageFromDetail', () => {
  it('uses the server sentence as is', () => {
    expect(messageFromDetail('Wrong username or password.', 401)).toBe('Wrong username or password.');
  });
  it('joins FastAPI validation items without body/query prefixes', () => {
    const detail = [
      { loc: ['body', 'username'], msg: 'Field required', type: 'missing' },
      { loc: ['query', 'page'], msg: 'Input should be greater than 0', type: 'greater_than' },
    ];
    expect(messageFromDetail(detail, 422)).toBe('username: Field required; page: Input should be greater than 0');
  });
  it('reads an object with a message', () => {
    expect(messageFromDetail({ message: 'Nope' }, 400)).toBe('Nope');
  });
  it('falls back to a sentence per status', () => {
    expect(messageFromDetail(undefined, 413)).toBe('The file is too large.');
    expect(messageFromDetail('', 409)).toMatch(/someone else/i);
    expect(messageFromDetail(null, 504)).toBe('The server had an error (HTTP 504).');
    expect(fallbackMessage(418)).toBe('Request failed (HTTP 418).');
  });
});

describe('apiErrorFromResponse', () => {
  it('builds status + message from a JSON body', async () => {
    const res = new Response(JSON.stringify({ detail: 'This file type is not supported: .txt' }), {
      status: 415,
      headers: { 'Content-Type': 'application/json' },
    });
    const err = await apiErrorFromResponse(res);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(415);
    expect(err.message).toBe('This file type is not supported: .txt');
  });
  it('survives a non-JSON body (proxy error page)', async () => {
    const err = await apiErrorFromResponse(new Response('<html>Bad gateway</html>', { status: 502 }));
    expect(err.status).toBe(502);
    expect(err.message).toBe('The server is not reachable right now.');
  });
  it('uses an already-parsed body when given', async () => {
    const err = await apiErrorFromResponse(new Response(null, { status: 409 }), { detail: 'Stale version.' });
    expect(err.isConflict).toBe(true);
    expect(err.message).toBe('Stale version.');
  });
});

describe('errorMessage', () => {
  it('handles any thrown value', () => {
    expect(errorMessage(new ApiError(403, 'Not yours.'))).toBe('Not yours.');
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage('weird')).toBe('Something went wrong.');
  });
});
