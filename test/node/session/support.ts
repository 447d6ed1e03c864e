// Shared helpers for the session specs: credentials for the sandbox, resource-locator values,
// a readable view of the workflow error, and the "the API key never leaks" check.

import type { RunResult } from '../../harness/run-workflow';
import type { RecordedRequest, Sandbox } from '../../sandbox';
import { createSessionOverHttp, expectApiKeyNotLeaked, type NodeErrorView } from '../../harness/support';

export { byId, expectApiKeyNotLeaked, sandboxCredentials, type NodeErrorView } from '../../harness/support';

/**
 * The error that stopped the workflow; fails the test when the workflow did not fail, or when
 * any of the given API keys shows up in the execution data or the logs.
 */
export function workflowError(result: RunResult, apiKey: string, ...moreApiKeys: string[]): NodeErrorView {
	expect(result.error).toBeDefined();
	for (const key of [apiKey, ...moreApiKeys]) expectApiKeyNotLeaked(result, key);
	return result.error as unknown as NodeErrorView;
}

/** The requests that reached the chat API (credential and list calls excluded). */
export function chatRequests(sandbox: Sandbox): RecordedRequest[] {
	return sandbox.requests.filter((request) => request.path.startsWith('/api/v1/chat'));
}

/**
 * Test setup over plain HTTP (not through the node): creates a session in a project and, when a
 * prompt is given, runs one chat turn so that the session has a title, job metadata and events.
 */
export async function seedSession(
	sandbox: Sandbox,
	options: { projectId?: string; indexIds?: string[]; prompt?: string } = {},
): Promise<string> {
	const projectId = options.projectId ?? sandbox.fixtures.defaultProjectId;
	const indexIds = options.indexIds ?? [sandbox.fixtures.indexIds[0]];
	const headers = { Authorization: `Bearer ${sandbox.apiKey}`, 'Content-Type': 'application/json' };
	const sessionId = await createSessionOverHttp(sandbox, { projectId, indexIds });
	if (options.prompt !== undefined) {
		const turn = await fetch(`${sandbox.url}/api/v1/chat/${encodeURIComponent(sessionId)}/messages/stream?project_id=${projectId}`, {
			method: 'POST',
			headers,
			body: JSON.stringify({ index_ids: indexIds, prompt: options.prompt }),
		});
		expect(turn.status).toBe(200);
		await turn.text();
	}
	return sessionId;
}
