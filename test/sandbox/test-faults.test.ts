/* eslint-disable @n8n/community-nodes/no-restricted-globals -- Node.js test/dev code, never run inside n8n */
// The sandbox's test-only behaviours used by the node specs, over raw HTTP: a response lost after
// the request took effect, and a stream held open after its stop event.

import { startSandbox, type Sandbox } from './index';

let sb: Sandbox;

beforeAll(async () => {
	sb = await startSandbox();
});

afterAll(async () => {
	await sb.close();
});

beforeEach(() => {
	sb.reset();
});

const auth = () => ({ Authorization: `Bearer ${sb.apiKey}`, 'Content-Type': 'application/json' });

async function createSession(): Promise<string> {
	const response = await fetch(`${sb.url}/api/v1/chat`, { method: 'POST', headers: auth(), body: JSON.stringify({ index_ids: ['idx-q3-reports'] }) });
	return ((await response.json()) as { session_id: string }).session_id;
}

describe('lose-response fault', () => {
	it('performs the request, then resets the connection instead of answering', async () => {
		const sessionId = await createSession();
		sb.injectFault({ method: 'DELETE', action: { type: 'lose-response' } });

		await expect(fetch(`${sb.url}/api/v1/chat/${sessionId}`, { method: 'DELETE', headers: auth() })).rejects.toThrow();

		expect(sb.getSession(sessionId)).toBeUndefined();
		const again = await fetch(`${sb.url}/api/v1/chat/${sessionId}`, { method: 'DELETE', headers: auth() });
		expect(again.status).toBe(404);
	});
});

describe('holdOpenAfterStopMs', () => {
	it('sends the whole answer, then keeps the connection open until the client leaves', async () => {
		const sessionId = await createSession();
		sb.setStreamBehaviour({ holdOpenAfterStopMs: 60_000 });
		const controller = new AbortController();

		const response = await fetch(`${sb.url}/api/v1/chat/${sessionId}/messages/stream`, {
			method: 'POST',
			headers: auth(),
			body: JSON.stringify({ index_ids: ['idx-q3-reports'], prompt: 'What grew in Q3?' }),
			signal: controller.signal,
		});
		const reader = response.body!.getReader();
		let text = '';
		while (!text.includes('"type":"stop"')) {
			const { value, done } = await reader.read();
			expect(done).toBe(false);
			text += Buffer.from(value!).toString('utf8');
		}
		// Nothing more comes, and the stream does not end, for a while.
		const next = await Promise.race([reader.read(), new Promise((resolve) => setTimeout(() => resolve('still open'), 300))]);
		expect(next).toBe('still open');
		expect(sb.stats.turnsCompleted).toBe(1);
		controller.abort();
	});
});
