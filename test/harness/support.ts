// Helpers every spec shares: credentials for the sandbox, resource-locator values, the shape of
// the error that stopped a workflow, the "API key never leaks" check, and sandbox setup over HTTP.

import type { INodeParameterResourceLocator } from 'n8n-workflow';

import { startSandbox, type Sandbox, type SandboxOptions } from '../sandbox';
import type { LlamaCloudCredentialData } from './credentials';
import { logLines } from './logs';
import type { RunResult } from './run-workflow';
import { stopEngineServices } from './teardown';

/**
 * A test file's sandbox: started once, reset (with the captured log) before each test, stopped
 * after the file together with n8n-core's background services so that jest can exit.
 */
export function useSandbox(onStart: (sandbox: Sandbox) => void, options?: SandboxOptions): void {
	let sandbox: Sandbox | undefined;
	beforeAll(async () => {
		sandbox = await startSandbox(options);
		onStart(sandbox);
	});
	beforeEach(() => {
		sandbox?.reset();
		logLines.length = 0;
	});
	afterAll(async () => {
		stopEngineServices();
		await sandbox?.close();
	});
}

/** A "LlamaCloud API" credential (region Custom) pointing at the sandbox. */
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
 * The API key must not show up anywhere a user (or a log collector) can read it: not in the
 * execution data (outputs, errors, node parameters) and not in what the node logged.
 */
export function expectApiKeyNotLeaked(result: RunResult, apiKey: string): void {
	expect(apiKey.length).toBeGreaterThan(8);
	expect(JSON.stringify(result.run)).not.toContain(apiKey);
	expect(JSON.stringify(logLines)).not.toContain(apiKey);
}

/**
 * Test setup, not through the node: creates a session straight on the sandbox, as another
 * workflow or person would have. `indexIds: null` makes it unbound.
 */
export async function createSessionOverHttp(
	sandbox: Sandbox,
	options: { indexIds: string[] | null; projectId?: string },
): Promise<string> {
	const query = options.projectId ? `?project_id=${options.projectId}` : '';
	const response = await fetch(`${sandbox.url}/api/v1/chat${query}`, {
		method: 'POST',
		headers: { Authorization: `Bearer ${sandbox.apiKey}`, 'Content-Type': 'application/json' },
		body: JSON.stringify(options.indexIds ? { index_ids: options.indexIds } : {}),
	});
	if (response.status !== 201) throw new Error(`Could not create a sandbox session: ${response.status}`);
	return ((await response.json()) as { session_id: string }).session_id;
}
