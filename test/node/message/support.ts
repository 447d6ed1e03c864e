// Shared helpers for the Message tests: talking to the sandbox directly (to set up sessions the
// way another workflow or person would have), reading what it received, and checking that errors
// never carry the API key.

import type { IDataObject } from 'n8n-workflow';

import { createSessionOverHttp, expectApiKeyNotLeaked } from '../../harness/support';
import type { RunResult } from '../../harness/run-workflow';
import type { RecordedRequest, Sandbox } from '../../sandbox';

export const STREAM_PATH = /^\/api\/v1\/chat\/[^/]+\/messages\/stream$/;

export { byId, sandboxCredentials as credentialsFor } from '../../harness/support';

/** Creates a session straight on the sandbox (not through the node); `null` makes it unbound. */
export async function createSessionDirectly(sandbox: Sandbox, indexIds: string[] | null): Promise<string> {
	return await createSessionOverHttp(sandbox, { indexIds });
}

/** Requests the sandbox received, as "METHOD /path" lines (the session id shown as :id). */
export function requestLines(sandbox: Sandbox): string[] {
	return sandbox.requests.map((request) => `${request.method} ${request.path.replace(/ses-[0-9a-f-]+/g, ':id')}`);
}

export function streamRequests(sandbox: Sandbox): RecordedRequest[] {
	return sandbox.requests.filter((request) => request.method === 'POST' && STREAM_PATH.test(request.path));
}

export function bodyOf(request: RecordedRequest): IDataObject {
	return request.body as IDataObject;
}

/** The error that stopped the workflow, with the fields n8n shows the user. */
export function errorOf(result: RunResult): { name?: string; message: string; description?: string | null; httpCode?: string | null } {
	const error = result.error as unknown as { name?: string; message: string; description?: string | null; httpCode?: string | null };
	if (!error) throw new Error('Expected the workflow to fail, but it succeeded');
	return error;
}

/** The API key must never end up in execution data (saved by n8n, shown in the UI) nor in logs. */
export function expectNoApiKeyLeak(sandbox: Sandbox, result: RunResult): void {
	expectApiKeyNotLeaked(result, sandbox.apiKey);
}

/** An SSE body with an error stop, for a fault that fails only one chosen request in-band. */
export function inBandErrorBody(message: string): string {
	const events = [
		{ type: 'text_delta', content: 'Revenue ' },
		{ type: 'stop', error: message, is_error: true, usage: { duration_ms: 1, total_input_tokens: 10, total_output_tokens: 1, turns: 1 } },
	];
	return events.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`).join('');
}
