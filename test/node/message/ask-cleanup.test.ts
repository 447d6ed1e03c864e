// Message → Ask with "Delete Session After Answer": the one-shot session is removed after a turn
// LlamaCloud refused outright (nothing to keep), and a delete whose answer was lost counts as done
// when its retry finds the session gone. Through n8n's engine against the sandbox.

import type { IDataObject } from 'n8n-workflow';

import { logLines } from '../../harness/logs';
import { runWorkflow, type RunResult } from '../../harness/run-workflow';
import { useSandbox } from '../../harness/support';
import type { Sandbox } from '../../sandbox';
import { STREAM_PATH, credentialsFor, errorOf, expectNoApiKeyLeak, requestLines } from './support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

async function ask(options: IDataObject): Promise<RunResult> {
	return await runWorkflow({
		credentials: credentialsFor(sandbox),
		nodes: [
			{
				name: 'Ask',
				parameters: { resource: 'message', operation: 'ask', prompt: 'What grew in Q3?', indexIds: ['idx-q3-reports'], options },
			},
		],
	});
}

function createdSessionId(): string {
	const created = sandbox.requests.filter((request) => request.method === 'POST' && request.path === '/api/v1/chat');
	expect(created).toHaveLength(1);
	const stream = sandbox.requests.find((request) => STREAM_PATH.test(request.path));
	return decodeURIComponent(String(stream?.path.split('/')[4]));
}

describe('Message → Ask: cleaning up the one-shot session', () => {
	it.each([
		['400', 400, 'Unsupported value for index_ids'],
		['422', 422, 'prompt: String should have at most 1000 characters'],
	])('deletes the session when LlamaCloud refused the message (%s), and names it', async (_label, status, detail) => {
		sandbox.injectFault({ method: 'POST', path: STREAM_PATH, action: { type: 'status', status, body: { detail } } });

		const result = await ask({ deleteSession: true, maxRetries: 0 });

		const sessionId = createdSessionId();
		const error = errorOf(result);
		expect(error.message).toBe(`LlamaCloud error ${status}: ${detail}`);
		expect(error.description).toContain(sessionId);
		expect(requestLines(sandbox)).toEqual(['POST /api/v1/chat', 'POST /api/v1/chat/:id/messages/stream', 'DELETE /api/v1/chat/:id']);
		expect(sandbox.getSession(sessionId)).toBeUndefined();
		expect(sandbox.stats.turnsStarted).toBe(0);
		expectNoApiKeyLeak(sandbox, result);
	});

	it('keeps the session of a refused message when Delete Session After Answer is off', async () => {
		sandbox.injectFault({ method: 'POST', path: STREAM_PATH, action: { type: 'status', status: 400, body: { detail: 'Bad request' } } });

		const result = await ask({ maxRetries: 0 });

		const sessionId = createdSessionId();
		expect(errorOf(result).description).toContain(sessionId);
		expect(sandbox.getSession(sessionId)).toBeDefined();
		expect(requestLines(sandbox)).not.toContain('DELETE /api/v1/chat/:id');
	});

	it('counts the delete as done when its answer was lost and the retry finds the session gone', async () => {
		// The first DELETE deletes the session, but the connection drops before the answer arrives.
		sandbox.injectFault({ method: 'DELETE', action: { type: 'lose-response' } });

		const result = await ask({ deleteSession: true, maxRetries: 2 });

		expect(result.error).toBeUndefined();
		const [{ json }] = result.output('Ask');
		expect(json.answer).toEqual(expect.stringContaining('Q3 revenue grew 12%'));
		expect(json.session_deleted).toBe(true);
		expect(json).not.toHaveProperty('session_delete_error');
		expect(requestLines(sandbox).filter((line) => line.startsWith('DELETE'))).toHaveLength(2);
		expect(sandbox.getSession(json.session_id as string)).toBeUndefined();
		expect(sandbox.stats.sessionsDeleted).toBe(1);
		expect(logLines.filter((line) => /could not be deleted/.test(line.message))).toHaveLength(0);
	});
});
