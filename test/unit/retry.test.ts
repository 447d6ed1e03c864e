// The retry policy's pure rules (transport/retry.ts): which failures of a read or delete are sent
// again, and how long the node waits first. Math.random is replaced by fixed values, so every
// backoff is checked exactly, jitter included; nothing here waits.

import { isRetryable, retryDelayMs } from '../../nodes/LlamaCloudChat/transport/retry';

function withRandom<T>(value: number, run: () => T): T {
	const spy = jest.spyOn(Math, 'random').mockReturnValue(value);
	try {
		return run();
	} finally {
		spy.mockRestore();
	}
}

describe('isRetryable for reads and deletes (idempotent)', () => {
	it.each([408, 409, 429, 500, 502, 503, 504])('retries HTTP %i', (status) => {
		expect(isRetryable('idempotent', { status })).toBe(true);
	});

	it.each([400, 401, 403, 404, 422])('does not retry HTTP %i', (status) => {
		expect(isRetryable('idempotent', { status })).toBe(false);
	});

	it.each(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'ECONNABORTED', 'EPIPE', 'ESOCKETTIMEDOUT'])(
		'retries the network failure %s',
		(errorCode) => {
			expect(isRetryable('idempotent', { errorCode })).toBe(true);
		},
	);

	it('does not retry an unknown network failure, nor a failure with neither status nor code', () => {
		expect(isRetryable('idempotent', { errorCode: 'ERR_TLS_CERT_ALTNAME_INVALID' })).toBe(false);
		expect(isRetryable('idempotent', {})).toBe(false);
	});

	it('follows x-should-retry over the status rules', () => {
		expect(isRetryable('idempotent', { status: 503, headers: { 'x-should-retry': 'false' } })).toBe(false);
		expect(isRetryable('idempotent', { status: 400, headers: { 'x-should-retry': 'true' } })).toBe(true);
	});
});

describe('isRetryable for requests that may have acted (create, stream)', () => {
	it.each(['ETIMEDOUT', 'ECONNRESET', 'ECONNABORTED'])('does not repeat a create or a message after %s (it may have arrived)', (errorCode) => {
		expect(isRetryable('create', { errorCode })).toBe(false);
		expect(isRetryable('stream', { errorCode })).toBe(false);
	});

	it.each(['ECONNREFUSED', 'ENOTFOUND'])('repeats a create or a message after %s (nothing arrived)', (errorCode) => {
		expect(isRetryable('create', { errorCode })).toBe(true);
		expect(isRetryable('stream', { errorCode })).toBe(true);
	});

	it('does not repeat a create on a 500 or 408 without proof that LlamaCloud did not act', () => {
		expect(isRetryable('create', { status: 500 })).toBe(false);
		expect(isRetryable('create', { status: 408 })).toBe(false);
		expect(isRetryable('create', { status: 429 })).toBe(false);
	});
});

describe('retryDelayMs without a server hint: exponential backoff, capped, jittered', () => {
	// Jitter scales the backoff by (1 - random × 0.25): random 0 gives the full value, random → 1 three quarters.
	it.each([
		[0, 500],
		[1, 1000],
		[2, 2000],
		[3, 4000],
		[4, 8000],
		[5, 8000],
		[10, 8000],
	])('retry %i waits %i ms at most (random 0)', (retriesDone, expected) => {
		expect(withRandom(0, () => retryDelayMs(retriesDone))).toBe(expected);
	});

	it.each([
		[0, 375],
		[1, 750],
		[2, 1500],
		[4, 6000],
		[9, 6000],
	])('retry %i waits %i ms at least (random → 1): up to a quarter is taken off', (retriesDone, expected) => {
		expect(withRandom(0.999999, () => retryDelayMs(retriesDone))).toBe(expected);
	});

	it('jitter spreads waits between those bounds', () => {
		expect(withRandom(0.5, () => retryDelayMs(0))).toBe(438); // 500 × 0.875, rounded
		expect(withRandom(0.5, () => retryDelayMs(6))).toBe(7000); // the 8 s cap × 0.875
	});

	it('does not jitter a server hint', () => {
		expect(withRandom(0.999999, () => retryDelayMs(0, { 'retry-after': '2' }))).toBe(2000);
		expect(withRandom(0.999999, () => retryDelayMs(0, { 'retry-after-ms': '250' }))).toBe(250);
	});
});

describe('retryDelayMs with a server hint', () => {
	const now = Date.parse('2026-11-30T12:00:00Z');

	it('takes retry-after-ms over Retry-After, and returns a long wait as asked (the transport then does not retry)', () => {
		expect(retryDelayMs(0, { 'retry-after-ms': '250', 'retry-after': '5' }, now)).toBe(250);
		expect(retryDelayMs(0, { 'retry-after': '7' }, now)).toBe(7000);
		expect(retryDelayMs(0, { 'retry-after': '600' }, now)).toBe(600_000);
		expect(retryDelayMs(0, { 'retry-after-ms': '90000' }, now)).toBe(90_000);
	});

	it('reads Retry-After as an HTTP date relative to now, never negative', () => {
		expect(retryDelayMs(0, { 'retry-after': new Date(now + 3000).toUTCString() }, now)).toBe(3000);
		expect(retryDelayMs(0, { 'retry-after': new Date(now - 60_000).toUTCString() }, now)).toBe(0);
		expect(retryDelayMs(0, { 'retry-after': new Date(now + 3_600_000).toUTCString() }, now)).toBe(3_600_000);
	});

	it('takes a hint of 0 as "now", and falls back for a negative or unreadable retry-after-ms', () => {
		expect(withRandom(0, () => retryDelayMs(1, { 'retry-after-ms': '0' }, now))).toBe(0);
		expect(withRandom(0, () => retryDelayMs(1, { 'retry-after': '0' }, now))).toBe(0);
		expect(withRandom(0, () => retryDelayMs(1, { 'retry-after-ms': '-250' }, now))).toBe(1000);
		expect(withRandom(0, () => retryDelayMs(1, { 'retry-after-ms': 'soon', 'retry-after': '2' }, now))).toBe(2000);
		expect(withRandom(0, () => retryDelayMs(1, { 'retry-after': 'soon' }, now))).toBe(1000);
	});

	it('never waits a negative time: a negative Retry-After means "now"', () => {
		expect(withRandom(0, () => retryDelayMs(1, { 'retry-after': '-3' }, now))).toBe(0);
	});

	it('falls back to backoff for an unreadable hint, and reads the first of repeated headers', () => {
		expect(withRandom(0, () => retryDelayMs(1, { 'retry-after': 'soon' }, now))).toBe(1000);
		expect(retryDelayMs(0, { 'retry-after': ['3', '9'] }, now)).toBe(3000);
	});
});
