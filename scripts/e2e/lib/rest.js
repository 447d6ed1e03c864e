'use strict';
// Minimal client for n8n's internal REST API (/rest), the one the editor uses: cookie auth.
const crypto = require('node:crypto');

class RestClient {
	constructor(baseUrl, { timeoutMs = 30_000 } = {}) {
		this.baseUrl = baseUrl.replace(/\/$/, '');
		this.timeoutMs = timeoutMs;
		this.cookies = new Map();
		// The auth cookie is bound to the browser-id header sent at login.
		this.browserId = crypto.randomUUID();
	}

	async request(method, path, body, { expectStatus } = {}) {
		const headers = { accept: 'application/json', 'browser-id': this.browserId };
		if (body !== undefined) headers['content-type'] = 'application/json';
		if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
		const res = await fetch(`${this.baseUrl}${path}`, {
			method,
			headers,
			body: body === undefined ? undefined : JSON.stringify(body),
			signal: AbortSignal.timeout(this.timeoutMs),
			redirect: 'manual',
		});
		for (const c of res.headers.getSetCookie?.() ?? []) {
			const [pair] = c.split(';');
			const i = pair.indexOf('=');
			this.cookies.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
		}
		const text = await res.text();
		let json;
		try {
			json = text ? JSON.parse(text) : undefined;
		} catch {
			json = undefined;
		}
		if (expectStatus !== undefined && res.status !== expectStatus) {
			throw new Error(`${method} ${path} -> ${res.status} (expected ${expectStatus}): ${text.slice(0, 500)}`);
		}
		if (expectStatus === undefined && !res.ok) {
			throw new Error(`${method} ${path} -> ${res.status}: ${text.slice(0, 500)}`);
		}
		return { status: res.status, json, text };
	}

	get(path, opts) {
		return this.request('GET', path, undefined, opts);
	}

	post(path, body, opts) {
		return this.request('POST', path, body ?? {}, opts);
	}

	/** First-run owner setup (only works while the instance has no owner yet). */
	async setupOwner({ email, password, firstName = 'E2E', lastName = 'Owner' }) {
		return this.post('/rest/owner/setup', { email, password, firstName, lastName });
	}

	async login({ email, password }) {
		// n8n rate-limits /rest/login per IP (429 "Too many requests"); the e2e parts log in many times in one
		// n8n, so a refused login waits for n8n's window and tries again (at most 3 times).
		let r;
		for (let attempt = 1; ; attempt++) {
			try {
				r = await this.post('/rest/login', { emailOrLdapLoginId: email, password });
				break;
			} catch (error) {
				if (attempt >= 3 || !/-> 429\b/.test(String(error.message))) throw error;
				await new Promise((resolve) => setTimeout(resolve, 30_000 * attempt));
			}
		}
		if (!this.cookies.has('n8n-auth')) throw new Error('login returned no n8n-auth cookie');
		return r;
	}
}

module.exports = { RestClient };
