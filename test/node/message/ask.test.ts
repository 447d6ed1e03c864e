// Spec tests for Message → Ask (create a bound session and answer in one node), run for real
// through n8n-core's execution engine against the LlamaCloud sandbox (no HTTP mocking).

import type { IDataObject, INodeProperties } from 'n8n-workflow';

import { LlamaCloudChat } from '../../../nodes/LlamaCloudChat/LlamaCloudChat.node';
import { runWorkflow, type RunResult } from '../../harness/run-workflow';
import { useSandbox } from '../../harness/support';
import type { Sandbox } from '../../sandbox';
import { bodyOf, credentialsFor, errorOf, expectNoApiKeyLeak, requestLines, streamRequests } from './support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

async function ask(parameters: IDataObject, items: IDataObject[] = [{}]): Promise<RunResult> {
	return await runWorkflow({
		credentials: credentialsFor(sandbox),
		items,
		nodes: [{ name: 'Ask', parameters: { resource: 'message', operation: 'ask', indexIds: ['idx-q3-reports'], ...parameters } }],
	});
}

function askOutput(result: RunResult): IDataObject {
	if (result.error) throw new Error(`The workflow failed: ${result.error.message}`);
	return result.output('Ask')[0].json;
}

describe('Message → Ask', () => {
	it('creates a session bound to the indexes and answers the question in one step', async () => {
		const output = askOutput(await ask({ prompt: 'What grew in Q3?', indexIds: ['idx-q3-reports', 'idx-product-handbook'] }));

		expect(requestLines(sandbox)).toEqual(['POST /api/v1/chat', 'POST /api/v1/chat/:id/messages/stream']);
		expect(sandbox.requests[0].body).toEqual({ index_ids: ['idx-q3-reports', 'idx-product-handbook'] });
		expect(bodyOf(streamRequests(sandbox)[0])).toEqual({ index_ids: ['idx-q3-reports', 'idx-product-handbook'], prompt: 'What grew in Q3?' });

		expect(output).toMatchObject({ is_error: false, answer: expect.stringContaining('Q3 revenue grew 12%') });
		expect(output.citations).toHaveLength(1);
		expect(output.usage).toMatchObject({ turns: 2 });
		expect(output).not.toHaveProperty('session_deleted');

		const session = sandbox.getSession(output.session_id as string);
		expect(session).toBeDefined();
		expect(session.index_ids).toEqual(['idx-q3-reports', 'idx-product-handbook']);
		expect(session.index_set_locked).toBe(true);
		expect(session.events[0]).toEqual({ type: 'user_input', content: 'What grew in Q3?' });
		expect(session.events).toContainEqual({ type: 'text', content: output.answer });
	});

	it('pairs its answer with the input item', async () => {
		const result = await ask({ prompt: 'What grew in Q3?' });
		expect(result.output('Ask')[0].pairedItem).toEqual({ item: 0 });
	});

	it('deletes the session after answering when "Delete Session After Answer" is on', async () => {
		const output = askOutput(await ask({ prompt: 'What grew in Q3?', options: { deleteSession: true } }));
		expect(output.session_deleted).toBe(true);
		expect(output.answer).toContain('Q3 revenue grew 12%');
		expect(sandbox.getSession(output.session_id as string)).toBeUndefined();
		expect(requestLines(sandbox)).toEqual(['POST /api/v1/chat', 'POST /api/v1/chat/:id/messages/stream', 'DELETE /api/v1/chat/:id']);
		expect(sandbox.stats.sessionsDeleted).toBe(1);
	});

	it("asks the incoming item's chatInput by default (as behind a Chat Trigger)", async () => {
		const result = await ask({}, [{ chatInput: 'Which customer concentration risk was flagged?', sessionId: 'chat-123' }]);
		const output = askOutput(result);
		expect(bodyOf(streamRequests(sandbox)[0]).prompt).toBe('Which customer concentration risk was flagged?');
		expect(output.answer).toContain('customer concentration');
	});

	it('Simplify off and Include Raw Events work as in Send', async () => {
		const output = askOutput(await ask({ prompt: 'What grew in Q3?', options: { simplify: false, includeEvents: true } }));
		expect(output).toMatchObject({ prompt: 'What grew in Q3?', index_ids: ['idx-q3-reports'], error: null });
		const events = output.events as IDataObject[];
		expect(events[events.length - 1]).toEqual(output.stop);
		expect(events).toEqual(sandbox.getSession(output.session_id as string).events.slice(1));
	});

	it('refuses to ask without indexes, before anything is sent', async () => {
		// Left empty in the editor, n8n itself blocks the run (required field); mapped, the node checks.
		const result = await ask({ prompt: 'What grew in Q3?', indexIds: '={{ $json.indexes }}' }, [{ indexes: [] }]);
		const error = errorOf(result);
		expect(error.name).toBe('NodeOperationError');
		expect(error.message).toBe('Indexes: choose at least one index to ask');
		expect(sandbox.requests).toHaveLength(0);
		expect(sandbox.stats.sessionsCreated).toBe(0);
		expectNoApiKeyLeak(sandbox, result);
	});

	it('refuses a prompt longer than 1000 characters without creating a session', async () => {
		const result = await ask({ prompt: 'y'.repeat(1001) });
		expect(errorOf(result).message).toBe('Prompt is 1001 characters long; LlamaCloud accepts at most 1000');
		expect(sandbox.requests).toHaveLength(0);
		expectNoApiKeyLeak(sandbox, result);
	});

	it('refuses an empty chat input without creating a session', async () => {
		const result = await ask({}, [{ somethingElse: 'no chatInput here' }]);
		expect(errorOf(result).message).toMatch(/^Prompt is required/);
		expect(sandbox.requests).toHaveLength(0);
		expectNoApiKeyLeak(sandbox, result);
	});

	it("shows LlamaCloud's reason when an index does not exist, and creates nothing", async () => {
		const result = await ask({ prompt: 'What grew in Q3?', indexIds: ['idx-deleted-last-week'] });
		const error = errorOf(result);
		expect(error.message).toBe("LlamaCloud error 404: Index 'idx-deleted-last-week' not found");
		expect(sandbox.stats.sessionsCreated).toBe(0);
		expect(streamRequests(sandbox)).toHaveLength(0);
		expectNoApiKeyLeak(sandbox, result);
	});

	describe('when the answer fails', () => {
		const onlySession = (): string => {
			const created = sandbox.requests.filter((request) => request.method === 'POST' && request.path === '/api/v1/chat');
			expect(created).toHaveLength(1);
			const stream = streamRequests(sandbox)[0];
			return decodeURIComponent(stream.path.split('/')[4]);
		};

		it('names the session the question was asked in, so nothing is lost (error stop)', async () => {
			sandbox.setStreamBehaviour({ mode: 'in-band-error', errorMessage: 'Model provider overloaded' });
			const result = await ask({ prompt: 'What grew in Q3?' });
			const sessionId = onlySession();
			const error = errorOf(result);
			expect(error.message).toBe('LlamaCloud could not answer: Model provider overloaded');
			expect(error.description).toBe(
				`The turn failed inside LlamaCloud (session ${sessionId}). Check that the indexes exist and are synced, then try again. Session ${sessionId} was created for this question.`,
			);
			expect(sandbox.getSession(sessionId).events[0]).toEqual({ type: 'user_input', content: 'What grew in Q3?' });
			expectNoApiKeyLeak(sandbox, result);
		});

		it('with "Delete Session After Answer", deletes the session of a turn that surely failed, and says so', async () => {
			sandbox.setStreamBehaviour({ mode: 'in-band-error', errorMessage: 'Model provider overloaded' });
			const result = await ask({ prompt: 'What grew in Q3?', options: { deleteSession: true } });
			const error = errorOf(result);
			const sessionId = (error as unknown as { context: { session_id: string } }).context.session_id;
			expect(error.message).toBe('LlamaCloud could not answer: Model provider overloaded');
			expect(error.description).toContain(`Session ${sessionId}, created for this question, was deleted.`);
			expect(sandbox.getSession(sessionId)).toBeUndefined();
			expect(requestLines(sandbox)).toContain('DELETE /api/v1/chat/:id');
			expectNoApiKeyLeak(sandbox, result);
		});

		it('with "Delete Session After Answer", keeps the session when the outcome is unknown (stream broke)', async () => {
			sandbox.setStreamBehaviour({ mode: 'drop-mid-stream' });
			const result = await ask({ prompt: 'What grew in Q3?', options: { deleteSession: true } });
			const sessionId = onlySession();
			expect(errorOf(result).description).toContain(`Check session ${sessionId} with Session → Get`);
			expect(errorOf(result).description).toContain(`Session ${sessionId}, created for this question, was kept so that you can check it.`);
			expect(requestLines(sandbox)).not.toContain('DELETE /api/v1/chat/:id');
			expectNoApiKeyLeak(sandbox, result);
		});

		it('names the session when the stream breaks off, and does not ask again', async () => {
			sandbox.setStreamBehaviour({ mode: 'drop-mid-stream' });
			const result = await ask({ prompt: 'What grew in Q3?', options: { maxRetries: 3 } });
			const sessionId = onlySession();
			const error = errorOf(result);
			expect(error.message).toMatch(/^The connection broke while LlamaCloud was answering/);
			expect(error.description).toContain(sessionId);
			expect(sandbox.stats.turnsStarted).toBe(1);
			expect(streamRequests(sandbox)).toHaveLength(1);
			expectNoApiKeyLeak(sandbox, result);
		});

		it('does not lose the answer or the session when deleting the session afterwards fails', async () => {
			sandbox.injectFault({ method: 'DELETE', times: Infinity, action: { type: 'status', status: 500 } });
			const result = await ask({ prompt: 'What grew in Q3?', options: { deleteSession: true, maxRetries: 0 } });
			const sessionId = onlySession();
			expect(sandbox.stats.turnsCompleted).toBe(1);
			// The answer is already here: the item succeeds with it, and says the clean-up failed.
			expect(result.error).toBeUndefined();
			const output = askOutput(result);
			expect(output).toMatchObject({ session_id: sessionId, answer: expect.stringContaining('Q3 revenue grew 12%') });
			expect(output.session_deleted).toBe(false);
			expect(output.session_delete_error).toBe('LlamaCloud error 500: Internal Server Error');
			expect(sandbox.getSession(sessionId)).toBeDefined();
			expectNoApiKeyLeak(sandbox, result);
		});

		it('with Continue On Fail, gives an error item that names the session', async () => {
			sandbox.setStreamBehaviour({ mode: 'truncate-before-stop' });
			const result = await runWorkflow({
				credentials: credentialsFor(sandbox),
				items: [{}],
				nodes: [
					{
						name: 'Ask',
						parameters: { resource: 'message', operation: 'ask', indexIds: ['idx-q3-reports'], prompt: 'What grew in Q3?' },
						continueOnFail: true,
					},
				],
			});
			expect(result.error).toBeUndefined();
			const sessionId = onlySession();
			const [item] = result.output('Ask');
			expect(item.pairedItem).toEqual({ item: 0 });
			expect(item.json.error).toBe('The answer stream ended before LlamaCloud finished the turn');
			expect(item.json.description).toContain(sessionId);
			expectNoApiKeyLeak(sandbox, result);
		});
	});

	describe('as a tool for AI agents', () => {
		const { description } = new LlamaCloudChat();

		it('the node can be used as a tool', () => {
			expect(description.usableAsTool).toBe(true);
		});

		it("Ask is the default message operation and its prompt defaults to the chat input", () => {
			const operation = description.properties.find(
				(property) => property.name === 'operation' && property.displayOptions?.show?.resource?.includes('message'),
			) as INodeProperties;
			expect(operation.default).toBe('ask');
			const prompt = description.properties.find(
				(property) => property.name === 'prompt' && property.displayOptions?.show?.operation?.includes('ask'),
			) as INodeProperties;
			expect(prompt.default).toBe('={{ $json.chatInput }}');
			expect(prompt.required).toBe(true);
		});
	});
});
