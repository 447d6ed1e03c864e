// Each reader gets the words meant for them. n8n-core streams a failed node's description into the
// chat (WorkflowExecute: sendChunk({ type: 'error', content: error.description })), n8n's Chat Hub
// shows it to its user, and an AI Agent's model reads a failed tool's message. So when a chat user or
// a model reads the error, the description is short and names no session, URL or operator step, a
// tool's message says what failed and what the model can do, and the operator's own message and
// description stay in the execution, in the error's details (context.data). Through n8n's engine.

import type { IDataObject, INodeParameters, WorkflowExecuteMode } from 'n8n-workflow';

import { CHAT_TEXTS, modelText } from '../../../nodes/LlamaCloudChat/helpers/audience';
import { TOOL_NODE_TYPE } from '../../harness/node-types';
import { runWorkflow, type RunResult } from '../../harness/run-workflow';
import { useSandbox } from '../../harness/support';
import type { FaultAction, Sandbox } from '../../sandbox';
import { credentialsFor, expectErrorItem, workflowError } from './support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

const STREAM = /\/messages\/stream$/;
const ask: INodeParameters = { resource: 'message', operation: 'ask', prompt: 'What grew in Q3?', indexIds: ['idx-q3-reports'], options: { maxRetries: 0 } };

interface ErrorFields {
	message: string;
	description?: string | null;
	context: IDataObject & { data?: string; session_id?: string };
}

interface How {
	tool?: boolean;
	mode?: WorkflowExecuteMode;
	streaming?: boolean;
	continueOnFail?: boolean;
}

async function run(how: How): Promise<RunResult> {
	return await runWorkflow({
		credentials: credentialsFor(sandbox),
		items: [{ prompt: 'What grew in Q3?' }],
		nodes: [
			{
				name: 'Ask',
				...(how.tool ? { type: TOOL_NODE_TYPE } : {}),
				parameters: how.tool ? { ...ask, prompt: '={{ $json.prompt }}' } : ask,
				continueOnFail: how.continueOnFail,
			},
		],
		mode: how.mode ?? (how.streaming ? 'webhook' : 'manual'),
		streaming: how.streaming,
	});
}

/** The session the node created for the question. */
function sessionOfRun(): string {
	const stream = sandbox.requests.find((request) => STREAM.test(request.path));
	return decodeURIComponent(String(stream?.path.split('/')[4]));
}

/** The text n8n streamed into the chat for the failed node. */
function streamedError(result: RunResult): string {
	const errors = result.chunks.filter((chunk) => chunk.type === 'error');
	expect(errors).toHaveLength(1);
	return String(errors[0].content);
}

/** Nothing a chat user may not read: no session, URL, option or operator step. */
function expectForChatUser(text: string): void {
	expect(text).not.toMatch(/ses-|https?:|Session →|Retr|'|Timeout|credential|check/i);
	expect(text.length).toBeLessThan(90);
}

const FAILURES: Array<[string, keyof typeof CHAT_TEXTS, () => void, string]> = [
	['the answer broke off', 'transient', () => sandbox.setStreamBehaviour({ mode: 'drop-mid-stream' }), 'The connection broke while LlamaCloud was answering'],
	['LlamaCloud had a server problem (503)', 'transient', () => fault(STREAM, { type: 'status', status: 503, body: { detail: 'Service unavailable' } }), 'LlamaCloud error 503: Service unavailable'],
	[
		'LlamaCloud turned the question away (422)',
		'rejected',
		() => fault(STREAM, { type: 'status', status: 422, body: { detail: 'prompt: String should have at most 1000 characters' } }),
		'LlamaCloud error 422: prompt: String should have at most 1000 characters',
	],
	['the API key was refused (401)', 'unavailable', () => fault('/api/v1/chat', { type: 'status', status: 401, body: { detail: 'Invalid authentication token' } }), 'LlamaCloud error 401: Invalid authentication token'],
];

function fault(path: string | RegExp, action: FaultAction): void {
	sandbox.injectFault({ method: 'POST', path, action });
}

describe('a chat user reads a short text: what n8n streams, and what the Chat Hub shows', () => {
	it.each(FAILURES)('%s: the chat gets "%s" words; the operator keeps message and details', async (_label, kind, makeFail, operatorMessage) => {
		makeFail();
		const result = await run({ streaming: true });
		const error = workflowError(result) as unknown as ErrorFields;

		expect(streamedError(result)).toBe(CHAT_TEXTS[kind]);
		expectForChatUser(CHAT_TEXTS[kind]);
		expect(error.description).toBe(CHAT_TEXTS[kind]);
		// The operator's message is unchanged, and the description they would have read is in the details.
		expect(error.message.startsWith(operatorMessage)).toBe(true);
		expect(typeof error.context.data).toBe('string');
		expect((error.context.data as string).length).toBeGreaterThan(CHAT_TEXTS[kind].length);
	});

	it('the operator still reads the session to check, and what to do, in the details', async () => {
		sandbox.setStreamBehaviour({ mode: 'drop-mid-stream' });
		const result = await run({ streaming: true });
		const error = workflowError(result) as unknown as ErrorFields;
		const sessionId = sessionOfRun();
		expect(error.context.session_id).toBe(sessionId);
		expect(error.context.data).toContain(`Check session ${sessionId} with Session → Get`);
		expect(JSON.stringify(result.chunks)).not.toContain(sessionId);
	});

	it("n8n's Chat Hub (mode chat) shows the description: the short text, also without streaming", async () => {
		sandbox.setStreamBehaviour({ mode: 'drop-mid-stream' });
		const result = await run({ mode: 'chat' });
		const error = workflowError(result) as unknown as ErrorFields;
		expect(error.description).toBe(CHAT_TEXTS.transient);
		expect(error.context.data).toContain(`Check session ${sessionOfRun()} with Session → Get`);
	});

	it('an execution nobody else reads (not streamed) keeps the operator texts as they were', async () => {
		sandbox.setStreamBehaviour({ mode: 'drop-mid-stream' });
		const result = await run({});
		const error = workflowError(result) as unknown as ErrorFields;
		expect(error.description).toContain(`Check session ${sessionOfRun()} with Session → Get`);
		expect(error.context.data).toBeUndefined();
	});
});

describe('a model reads what failed and what it can do', () => {
	it.each(FAILURES)('%s: the tool error says it in "%s" words', async (_label, kind, makeFail, operatorMessage) => {
		makeFail();
		const result = await run({ tool: true, streaming: true });
		const error = workflowError(result) as unknown as ErrorFields;

		const detail = kind === 'rejected' ? 'prompt: String should have at most 1000 characters' : undefined;
		expect(error.message).toBe(modelText(kind, detail));
		expect(error.message).toMatch(/answer without the documents/);
		// n8n streams the description of a failed tool node too: the chat user's words.
		expect(error.description).toBe(CHAT_TEXTS[kind]);
		expect(streamedError(result)).toBe(CHAT_TEXTS[kind]);
		// The operator's message and description are in the details.
		expect(error.context.data?.startsWith(`${operatorMessage}`)).toBe(true);
		expect(`${error.message} ${error.description}`).not.toMatch(/ses-|Session →|'Retries'|credential/);
	});

	it('under Continue On Fail the model reads the same words in the error item', async () => {
		fault(STREAM, { type: 'status', status: 503, body: { detail: 'Service unavailable' } });
		const result = await run({ tool: true, continueOnFail: true });
		expect(result.error).toBeUndefined();
		const json = expectErrorItem(result.output('Ask')[0], 0);
		expect(json).toEqual({ error: modelText('transient'), description: CHAT_TEXTS.transient, httpCode: '503' });
	});
});
