// Shared helpers for the session specs: credentials for the sandbox, resource-locator values,
// a readable view of the workflow error, and the "the API key never leaks" check.

import type { INodeParameterResourceLocator } from 'n8n-workflow';

import type { LlamaCloudCredentialData } from '../../harness/credentials';
import { logLines } from '../../harness/logs';
import type { RunResult } from '../../harness/run-workflow';
import type { RecordedRequest, Sandbox } from '../../sandbox';

export function sandboxCredentials(sandbox: Sandbox, overrides: Partial<LlamaCloudCredentialData> = {}): LlamaCloudCredentialData {
	return { apiKey: sandbox.apiKey, region: 'custom', baseUrl: sandbox.url, ...overrides };
}

/** A resource locator value "By ID" (or "From List" when `mode` says so). */
export function byId(value: string, mode: 'id' | 'list' = 'id'): INodeParameterResourceLocator {
	return { __rl: true, mode, value };
}

/** The fields of the serialized NodeApiError / NodeOperationError that stopped a workflow. */
export interface NodeErrorView {
	name: string;
	message: string;
	description?: string | null;
	httpCode?: string | null;
	context?: { itemIndex?: number };
}

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
 * The API key must not show up anywhere a user (or a log collector) can read it: not in the
 * execution data (outputs, errors, node parameters) and not in what the node logged.
 */
export function expectApiKeyNotLeaked(result: RunResult, apiKey: string): void {
	expect(apiKey.length).toBeGreaterThan(8);
	expect(JSON.stringify(result.run)).not.toContain(apiKey);
	expect(JSON.stringify(logLines)).not.toContain(apiKey);
}

export function clearLogLines(): void {
	logLines.length = 0;
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
	const created = await fetch(`${sandbox.url}/api/v1/chat?project_id=${projectId}`, {
		method: 'POST',
		headers,
		body: JSON.stringify({ index_ids: indexIds }),
	});
	expect(created.status).toBe(200);
	const { session_id: sessionId } = (await created.json()) as { session_id: string };
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
