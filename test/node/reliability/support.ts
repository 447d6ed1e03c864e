/* eslint-disable @n8n/community-nodes/no-restricted-imports -- Node.js test/dev code, never run inside n8n */
// Shared helpers for the reliability specs: credentials, seeding over plain HTTP, a closed port for
// "connection refused", retry log lines, a seeded PRNG, and the "the API key never leaks" check
// that every spec runs after each test.

import net from 'node:net';

import type { IDataObject, INodeExecutionData, Workflow } from 'n8n-workflow';

import type { LlamaCloudCredentialData } from '../../harness/credentials';
import { logLines, type LogLine } from '../../harness/logs';
import { executeWorkflow, runWorkflow, type RunOptions, type RunResult } from '../../harness/run-workflow';
import type { RecordedRequest, Sandbox } from '../../sandbox';
import { createSessionOverHttp, sandboxCredentials, type NodeErrorView } from '../../harness/support';

/** The message of the warn line the transport logs before each retry. */
export const RETRY_MESSAGE = 'LlamaCloud request failed; retrying';

export function credentialsFor(sandbox: Sandbox, baseUrl = sandbox.url): LlamaCloudCredentialData {
	return sandboxCredentials(sandbox, { baseUrl });
}

export { byId, type NodeErrorView } from '../../harness/support';

/** A loopback URL on which nothing listens: connecting to it is refused (ECONNREFUSED). */
export async function closedPortUrl(): Promise<string> {
	const server = net.createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as net.AddressInfo;
	await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
	return `http://127.0.0.1:${port}`;
}

/**
 * Creates sessions over plain HTTP (not through the node), bound to `indexIds`, then forgets the
 * seeding requests so that `sandbox.requests` holds only what the node sends.
 */
export async function seedSessions(sandbox: Sandbox, count: number, indexIds = ['idx-q3-reports']): Promise<string[]> {
	const ids: string[] = [];
	for (let n = 0; n < count; n++) ids.push(await createSessionOverHttp(sandbox, { indexIds }));
	sandbox.clearRequests();
	return ids;
}

/** Deletes a session over plain HTTP (test setup), then forgets that request. */
export async function deleteOverHttp(sandbox: Sandbox, sessionId: string): Promise<void> {
	const response = await fetch(`${sandbox.url}/api/v1/chat/${encodeURIComponent(sessionId)}`, {
		method: 'DELETE',
		headers: { Authorization: `Bearer ${sandbox.apiKey}` },
	});
	expect(response.status).toBe(204);
	sandbox.clearRequests();
}

/** The warn lines the transport logged for retries, in order. */
export function retryWarnings(): LogLine[] {
	return logLines.filter((line) => line.message === RETRY_MESSAGE);
}

export interface RetryMetadata {
	node: string;
	method: string;
	path: string;
	status?: number;
	code?: string;
	retry: number;
	maxRetries: number;
	delayMs: number;
}

export function retryMetadata(): RetryMetadata[] {
	return retryWarnings().map((line) => line.metadata as RetryMetadata);
}

/** The error that stopped the workflow; fails the test when the workflow did not fail. */
export function workflowError(result: RunResult): NodeErrorView {
	expect(result.error).toBeDefined();
	return result.error as unknown as NodeErrorView;
}

/** Continue On Fail: an error item is `{ error, description?, httpCode? }` paired with its input item. */
export function expectErrorItem(item: INodeExecutionData, itemIndex: number): IDataObject {
	expect(item.pairedItem).toEqual({ item: itemIndex });
	expect(typeof item.json.error).toBe('string');
	expect((item.json.error as string).length).toBeGreaterThan(0);
	return item.json;
}

/**
 * Runs workflows and remembers every result, so that `expectNoSecrets` (run after each test)
 * can check all of them.
 */
export class TrackedRuns {
	private readonly results: RunResult[] = [];

	async run(options: RunOptions): Promise<RunResult> {
		const result = await runWorkflow(options);
		this.results.push(result);
		return result;
	}

	/** Runs a workflow built (and adjusted) by the test itself, e.g. with another "On Error" setting. */
	async runBuilt(workflow: Workflow, startNode: string, items: IDataObject[], credentials: LlamaCloudCredentialData): Promise<RunResult> {
		const result = await executeWorkflow(workflow, startNode, items, credentials);
		this.results.push(result);
		return result;
	}

	/**
	 * The API key appears nowhere a user or a log collector can read it: not in any execution data
	 * (outputs, error items, the workflow error) and not in anything logged; every retry warn line
	 * says what was retried (method, path, attempt, wait) and nothing secret.
	 */
	expectNoSecrets(apiKey: string): void {
		expect(apiKey.length).toBeGreaterThan(8);
		for (const result of this.results) expect(JSON.stringify(result.run)).not.toContain(apiKey);
		const logged = JSON.stringify(logLines);
		expect(logged).not.toContain(apiKey);
		expect(logged).not.toMatch(/bearer\s/i);
		for (const line of retryWarnings()) {
			expect(line.level).toBe('warn');
			expect(line.metadata).toEqual(
				expect.objectContaining({
					method: expect.any(String),
					path: expect.stringMatching(/^\/api\//),
					retry: expect.any(Number),
					maxRetries: expect.any(Number),
					delayMs: expect.any(Number),
				}),
			);
		}
		this.results.length = 0;
	}
}

/** Requests of the node that match `filter` (seeding requests are cleared by the helpers). */
export function requestsWhere(sandbox: Sandbox, filter: (request: RecordedRequest) => boolean): RecordedRequest[] {
	return sandbox.requests.filter(filter);
}

/**
 * Records when requests arrive at the sandbox, without changing what it answers: a fault rule
 * that never matches, whose `when` notes the time.
 */
export function arrivalTimes(sandbox: Sandbox, filter: (request: RecordedRequest) => boolean = () => true): number[] {
	const times: number[] = [];
	sandbox.injectFault({
		times: Infinity,
		when: (request) => {
			if (filter(request)) times.push(performance.now());
			return false;
		},
		action: { type: 'delay', ms: 0 },
	});
	return times;
}

/** mulberry32: a tiny seeded PRNG, so "random" cases are the same on every run. */
export function seededRandom(seed: number): () => number {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

export function randomInt(random: () => number, min: number, max: number): number {
	return min + Math.floor(random() * (max - min + 1));
}

export function pick<T>(random: () => number, values: readonly T[]): T {
	return values[Math.floor(random() * values.length)];
}

/** `count` distinct indexes out of 0..size-1, sorted. */
export function sample(random: () => number, size: number, count: number): number[] {
	const chosen = new Set<number>();
	while (chosen.size < count) chosen.add(Math.floor(random() * size));
	return [...chosen].sort((a, b) => a - b);
}
