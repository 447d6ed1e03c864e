/* eslint-disable @n8n/community-nodes/no-hardcoded-secrets -- Node.js test/dev code, never run inside n8n */
// The sealed session reference a memory sub-node keeps: its format is stored in users' memories, so it
// is pinned here (a change would orphan every stored conversation), and whatever was not sealed by
// this node for this binding does not open.

import crypto, { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';

import { MAX_CACHED_KEYS, openSessionRef, sealSessionRef, type RefBinding } from '../../nodes/LlamaCloudChat/conversations/sessionRef';

const API_KEY = 'llx-unit-test-key-0000000000000000';
const binding: RefBinding = { workflowId: 'wf-1', nodeId: 'node-1', indexes: 'idx-a,idx-b', conversation: 'key:chat-1' };
const ref = { session: 'ses-123', turns: 3, usedAt: 1_764_633_600_000 };

/** A reference made from the documented format alone: v1.base64url(iv | AES-256-GCM(JSON) | 16-byte tag). */
function sealedByTheFormat(plain: unknown, tagBytes = 16, apiKey = API_KEY): string {
	const key = Buffer.from(hkdfSync('sha256', apiKey, 'n8n-nodes-llamacloud-chat', 'conversation session reference v1', 32));
	const iv = randomBytes(12);
	const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: tagBytes });
	cipher.setAAD(Buffer.from(JSON.stringify(['v1', binding.workflowId, binding.nodeId, binding.indexes, binding.conversation])));
	const sealed = Buffer.concat([cipher.update(JSON.stringify(plain), 'utf8'), cipher.final()]);
	return `v1.${Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url')}`;
}

describe('sealed session references', () => {
	it('opens what it sealed, and nothing readable is left in the token', () => {
		const token = sealSessionRef(ref, binding, API_KEY);
		expect(openSessionRef(token, binding, API_KEY)).toEqual(ref);
		expect(token).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
		expect(Buffer.from(token.slice(3), 'base64url').toString('latin1')).not.toContain('ses-123');
		expect(sealSessionRef(ref, binding, API_KEY)).not.toBe(token); // a fresh IV every time
	});

	it('keeps its format: a reference built from the format alone opens, so stored conversations survive upgrades', () => {
		expect(openSessionRef(sealedByTheFormat(['ses-123', 3, 1_764_633_600_000]), binding, API_KEY)).toEqual(ref);
		// With an API key no other test uses, so that the node derives its key here (it keeps derived keys).
		const unused = 'llx-format-test-key-only-here-00000';
		expect(openSessionRef(sealedByTheFormat(['ses-123', 3, 1_764_633_600_000], 16, unused), binding, unused)).toEqual(ref);
	});

	it('refuses a reference whose authentication tag was shortened', () => {
		expect(openSessionRef(sealedByTheFormat(['ses-123', 3, 1], 4), binding, API_KEY)).toBeUndefined();
	});

	it.each([
		['no session', ['', 3, 1]],
		['a session that is no text', [42, 3, 1]],
		['no list', { session: 'ses-123' }],
	])('refuses a genuine reference holding %s', (_case, plain) => {
		expect(openSessionRef(sealedByTheFormat(plain), binding, API_KEY)).toBeUndefined();
	});

	it('reads missing counts as 0', () => {
		expect(openSessionRef(sealedByTheFormat(['ses-123', 'x', null]), binding, API_KEY)).toEqual({ session: 'ses-123', turns: 0, usedAt: 0 });
	});

	it.each([
		['not text', 42],
		['another version', `v2.${sealSessionRef(ref, binding, API_KEY).slice(3)}`],
		['no version', sealSessionRef(ref, binding, API_KEY).slice(3)],
		['too short', 'v1.AAAA'],
		['empty', 'v1.'],
	])('refuses a token that is %s', (_case, token) => {
		expect(openSessionRef(token, binding, API_KEY)).toBeUndefined();
	});

	it(`derives each API key's sealing key once, and keeps the keys of the ${MAX_CACHED_KEYS} most recently first-used API keys`, () => {
		const derived = jest.spyOn(crypto, 'hkdfSync');
		try {
			const keys = Array.from({ length: MAX_CACHED_KEYS + 1 }, (_, index) => `llx-cache-test-${index}-000000000000`);
			const tokens = keys.map((key) => sealSessionRef(ref, binding, key));
			expect(derived).toHaveBeenCalledTimes(MAX_CACHED_KEYS + 1);
			// The newest ones open without a derivation; each still opens only with its own key.
			expect(openSessionRef(tokens[1], binding, keys[1])).toEqual(ref);
			expect(openSessionRef(tokens[MAX_CACHED_KEYS], binding, keys[MAX_CACHED_KEYS])).toEqual(ref);
			expect(openSessionRef(tokens[1], binding, keys[2])).toBeUndefined();
			expect(derived).toHaveBeenCalledTimes(MAX_CACHED_KEYS + 1);
			// The first one made room: it is derived again.
			expect(openSessionRef(tokens[0], binding, keys[0])).toEqual(ref);
			expect(derived).toHaveBeenCalledTimes(MAX_CACHED_KEYS + 2);
		} finally {
			derived.mockRestore();
		}
	});
});
