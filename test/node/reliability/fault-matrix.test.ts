/* eslint-disable @n8n/community-nodes/no-hardcoded-secrets -- Node.js test/dev code, never run inside n8n */
// Reliability: how every operation behaves when LlamaCloud (or the network) fails, run through
// n8n's real execution engine against the sandbox. Each row of the matrix is one kind of failure;
// the retry policy is the one in transport/retry.ts (see the API reference §4–§5).

// Retries (and Batch Interval) wait through transport/wait.ts's waitUnlessCancelled. Record every
// wait asked for (the specs check them) and keep the real pause short, so backoff rows do not slow the
// suite down. The node's other timers (idle timeout, Turn Timeout) run as they are.
const mockSleeps: number[] = [];
jest.mock('../../../nodes/LlamaCloudChat/transport/wait', () => {
	const actual = jest.requireActual('../../../nodes/LlamaCloudChat/transport/wait') as typeof import('../../../nodes/LlamaCloudChat/transport/wait');
	return {
		...actual,
		waitUnlessCancelled: async (...args: Parameters<typeof actual.waitUnlessCancelled>) => {
			mockSleeps.push(args[1]);
			await actual.waitUnlessCancelled(args[0], Math.min(args[1], 5), ...args.slice(2));
		},
	};
});

import type { IDataObject, INodeParameters } from 'n8n-workflow';

import type { LlamaCloudCredentialData } from '../../harness/credentials';
import { logLines } from '../../harness/logs';
import { buildWorkflow } from '../../harness/run-workflow';
import { useSandbox } from '../../harness/support';
import type { FaultAction, RecordedRequest, Sandbox, StreamBehaviour } from '../../sandbox';
import {
	TrackedRuns,
	byId,
	closedPortUrl,
	credentialsFor,
	deleteOverHttp,
	expectErrorItem,
	requestsWhere,
	retryMetadata,
	retryWarnings,
	seedSessions,
	workflowError,
} from './support';

let sandbox: Sandbox;
const runs = new TrackedRuns();

useSandbox((started) => (sandbox = started));

beforeEach(() => {
	mockSleeps.length = 0;
});

afterEach(() => {
	jest.restoreAllMocks();
});

afterEach(() => {
	runs.expectNoSecrets(sandbox.apiKey);
});

// ---- the operations -------------------------------------------------------------------------------

type OpName = 'Create' | 'Get Summary' | 'Send Message' | 'Delete';
type RetryMode = 'idempotent' | 'create' | 'stream';

const MODE: Record<OpName, RetryMode> = {
	Create: 'create',
	'Get Summary': 'idempotent',
	'Send Message': 'stream',
	Delete: 'idempotent',
};

/** Create items differ only in the index they bind, which tells their requests apart. */
const CREATE_INDEXES = ['idx-q3-reports', 'idx-product-handbook', 'idx-support-tickets'];
const PROMPT = 'What grew in Q3?';
const MAX_RETRIES = 2;

interface Scenario {
	items: IDataObject[];
	parameters: INodeParameters;
	sessions: string[];
	/** The node's requests made for input item `index`. */
	requestsFor(index: number): RecordedRequest[];
	/** The method and raw path that item `index` is sent to. */
	target(index: number): { method: string; path: string; when?: (request: RecordedRequest) => boolean };
}

async function scenario(op: OpName, options: INodeParameters): Promise<Scenario> {
	const sessions = op === 'Create' ? [] : await seedSessions(sandbox, 3);
	const sessionLocator = byId('={{ $json.session_id }}');
	let parameters: INodeParameters;
	let target: Scenario['target'];
	switch (op) {
		case 'Create':
			parameters = { resource: 'session', operation: 'create', indexIds: '={{ $json.index }}', options };
			target = (index) => ({
				method: 'POST',
				path: '/api/v1/chat',
				when: (request) => JSON.stringify((request.body as IDataObject | undefined)?.index_ids) === JSON.stringify([CREATE_INDEXES[index]]),
			});
			break;
		case 'Get Summary':
			parameters = { resource: 'session', operation: 'getSummary', sessionId: sessionLocator, options };
			target = (index) => ({ method: 'GET', path: `/api/v1/chat/${sessions[index]}/summary` });
			break;
		case 'Send Message':
			parameters = {
				resource: 'message',
				operation: 'send',
				sessionId: sessionLocator,
				prompt: PROMPT,
				indexIds: ['idx-q3-reports'],
				options: { streamIdleTimeout: 5000, ...options },
			};
			target = (index) => ({ method: 'POST', path: `/api/v1/chat/${sessions[index]}/messages/stream` });
			break;
		case 'Delete':
			parameters = { resource: 'session', operation: 'delete', sessionId: sessionLocator, options };
			target = (index) => ({ method: 'DELETE', path: `/api/v1/chat/${sessions[index]}` });
			break;
	}
	const items = op === 'Create' ? CREATE_INDEXES.map((index) => ({ index })) : sessions.map((session_id) => ({ session_id }));
	return {
		items,
		parameters,
		sessions,
		target,
		requestsFor: (index) => {
			const { method, path, when } = target(index);
			return requestsWhere(sandbox, (request) => request.method === method && request.path === path && (!when || when(request)));
		},
	};
}

/** What a successful item of each operation looks like. */
function expectSuccessItem(op: OpName, json: IDataObject, setup: Scenario, index: number): void {
	switch (op) {
		case 'Create':
			expect(json.session_id).toMatch(/^ses-/);
			expect(json.index_ids).toEqual([CREATE_INDEXES[index]]);
			break;
		case 'Get Summary':
			expect(json.session_id).toBe(setup.sessions[index]);
			expect(json.index_ids).toEqual(['idx-q3-reports']);
			break;
		case 'Send Message':
			expect(json.session_id).toBe(setup.sessions[index]);
			expect(json.is_error).toBe(false);
			expect(typeof json.answer).toBe('string');
			expect((json.answer as string).length).toBeGreaterThan(0);
			break;
		case 'Delete':
			expect(json).toEqual({ deleted: true, session_id: setup.sessions[index] });
			expect(sandbox.getSession(setup.sessions[index])).toBeUndefined();
			break;
	}
}

// ---- the fault matrix -----------------------------------------------------------------------------

type Fault =
	| { kind: 'response'; action: FaultAction }
	| { kind: 'refused' }
	| { kind: 'stream'; behaviour: StreamBehaviour };

interface Row {
	row: string;
	fault: Fault;
	ops: OpName[];
	/** Requests per failing item with Retries = 2 (retries give up after 2 more attempts). */
	attempts: Record<RetryMode, number>;
	/** The workflow error's message has all of these: status or network code, and LlamaCloud's words. */
	message: RegExp[];
	/** The description says what to do: the same for every operation, or per retry mode (what is true differs). */
	description: RegExp[] | Record<RetryMode, RegExp[]>;
	/** What a retry warn line names: the status, or the network error code. */
	logged?: { status: number } | { code: RegExp };
	/** Extra node options for this row. */
	options?: INodeParameters;
}

const ALL: OpName[] = ['Create', 'Get Summary', 'Send Message', 'Delete'];
const NEVER: Record<RetryMode, number> = { idempotent: 1, create: 1, stream: 1 };
const TRANSIENT: Record<RetryMode, number> = { idempotent: 3, create: 1, stream: 1 };

const detail = (status: number, text: string, headers?: Record<string, string>): Fault => ({
	kind: 'response',
	action: { type: 'status', status, body: { detail: text }, headers },
});

// "Raise Retries" is offered only where the retry policy repeats that failure; Create and Send say
// instead that nothing was repeated, and (Send) to check the session before sending again.
const RATE_LIMIT = [/Items per Batch/, /Batch Interval/];
const RATE_LIMIT_HINT: Record<RetryMode, RegExp[]> = {
	idempotent: [...RATE_LIMIT, /raise 'Retries'/],
	create: [...RATE_LIMIT, /no Retry-After/, /not repeated automatically/],
	stream: [...RATE_LIMIT, /no Retry-After/, /not repeated automatically/],
};
const NOT_CREATED_AGAIN = /session was not created again, since the failed attempt may have created one/;
const NOT_SENT_AGAIN = /message was not sent again, since that could duplicate a chat turn: check session ses-[\w-]+ with Session → Get/;
const SERVER_HINT: Record<RetryMode, RegExp[]> = {
	idempotent: [/server problem/, /raise 'Retries'/],
	create: [/server problem/, NOT_CREATED_AGAIN],
	stream: [/server problem/, NOT_SENT_AGAIN],
};
/** No advice to raise Retries where Retries cannot help. */
const NO_RETRIES_ADVICE = /^(?![\s\S]*raise 'Retries')/;
const NGINX_503 =
	'<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n' +
	'<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

const ROWS: Row[] = [
	{
		row: '400 Bad Request',
		fault: detail(400, 'Unsupported value for index_ids'),
		ops: ALL,
		attempts: NEVER,
		message: [/LlamaCloud error 400/, /Unsupported value for index_ids/],
		description: [/Check the parameters/],
	},
	{
		row: '401 Unauthorized',
		fault: detail(401, 'Invalid authentication token', { 'WWW-Authenticate': 'Bearer' }),
		ops: ALL,
		attempts: NEVER,
		message: [/LlamaCloud error 401/, /Invalid authentication token/],
		description: [/API key/, /Region/],
	},
	{
		row: '403 Forbidden',
		fault: detail(403, 'You do not have access to this project'),
		ops: ALL,
		attempts: NEVER,
		message: [/LlamaCloud error 403/, /You do not have access to this project/],
		description: [/no access to this project or organization/],
	},
	{
		row: '404 Not Found',
		fault: detail(404, 'Session not found'),
		ops: ALL,
		attempts: NEVER,
		message: [/LlamaCloud error 404/, /Session not found/],
		description: [/Check the ID/],
	},
	{
		row: '409 Conflict',
		fault: detail(409, 'Session is locked by another request'),
		ops: ALL,
		attempts: TRANSIENT,
		message: [/LlamaCloud error 409/, /Session is locked by another request/],
		description: [/conflict/, /Try again/],
		logged: { status: 409 },
	},
	{
		row: '422 Unprocessable Entity',
		fault: {
			kind: 'response',
			action: {
				type: 'status',
				status: 422,
				body: { detail: [{ loc: ['body', 'prompt'], msg: 'String should have at most 1000 characters', type: 'string_too_long' }] },
			},
		},
		ops: ALL,
		attempts: NEVER,
		message: [/LlamaCloud error 422/, /prompt: String should have at most 1000 characters/],
		description: [/names the field/],
	},
	{
		row: '429 with Retry-After',
		fault: detail(429, 'Rate limit exceeded', { 'retry-after': '0' }),
		ops: ALL,
		// A 429 with Retry-After proves LlamaCloud did not act: even a Create or a message may repeat.
		attempts: { idempotent: 3, create: 3, stream: 3 },
		message: [/LlamaCloud error 429/, /Rate limit exceeded/],
		description: [...RATE_LIMIT, /raise 'Retries'/],
		logged: { status: 429 },
	},
	{
		row: '429 without Retry-After',
		fault: detail(429, 'Rate limit exceeded'),
		ops: ALL,
		attempts: TRANSIENT,
		message: [/LlamaCloud error 429/, /Rate limit exceeded/],
		description: RATE_LIMIT_HINT,
		logged: { status: 429 },
	},
	{
		row: '500 Internal Server Error',
		fault: detail(500, 'Internal Server Error: worker crashed'),
		ops: ALL,
		attempts: TRANSIENT,
		message: [/LlamaCloud error 500/, /worker crashed/],
		description: SERVER_HINT,
		logged: { status: 500 },
	},
	{
		row: '502 with a non-JSON body',
		fault: { kind: 'response', action: { type: 'status', status: 502, body: 'Bad gateway', contentType: 'text/plain' } },
		ops: ALL,
		attempts: TRANSIENT,
		message: [/LlamaCloud error 502: Bad gateway/],
		description: SERVER_HINT,
		logged: { status: 502 },
	},
	{
		row: '503 with an HTML page',
		fault: { kind: 'response', action: { type: 'status', status: 503, body: NGINX_503, contentType: 'text/html' } },
		ops: ALL,
		attempts: TRANSIENT,
		message: [/LlamaCloud error 503/, /503 Service Temporarily Unavailable/, /nginx/, /^[^<>]*$/],
		description: SERVER_HINT,
		logged: { status: 503 },
	},
	{
		row: 'timeout (no answer)',
		fault: { kind: 'response', action: { type: 'hang' } },
		ops: ALL,
		attempts: TRANSIENT,
		message: [/LlamaCloud did not (start answering|answer) within 300 ms/, /ECONNABORTED|ETIMEDOUT/, /^(?!Could not reach)/],
		description: {
			idempotent: [/raise the node's 'Timeout' option/i],
			create: [NOT_CREATED_AGAIN, /'Timeout'/],
			// The POST was delivered: the turn may be running, so the advice is to check before re-sending.
			stream: [/The message was sent, and the turn may still be running/, NOT_SENT_AGAIN, /'Timeout'/],
		},
		logged: { code: /ECONNABORTED|ETIMEDOUT/ },
	},
	{
		row: 'connection refused',
		fault: { kind: 'refused' },
		ops: ALL,
		// Nothing reached LlamaCloud, so even a Create or a message may be sent again.
		attempts: { idempotent: 3, create: 3, stream: 3 },
		message: [/ECONNREFUSED/],
		description: [/Base URL/],
		logged: { code: /^ECONNREFUSED$/ },
	},
	{
		row: 'truncated answer stream (no stop event)',
		fault: { kind: 'stream', behaviour: { mode: 'truncate-before-stop' } },
		ops: ['Send Message'],
		attempts: NEVER,
		message: [/stream ended before LlamaCloud finished the turn/],
		description: [/not sent again/, /Session → Get/],
	},
	{
		row: 'in-band error stop',
		fault: { kind: 'stream', behaviour: { mode: 'in-band-error', errorMessage: 'Model overloaded' } },
		ops: ['Send Message'],
		attempts: NEVER,
		message: [/LlamaCloud could not answer: Model overloaded/],
		description: [/failed inside LlamaCloud/],
	},
	{
		row: 'stalled answer stream (idle timeout)',
		fault: { kind: 'stream', behaviour: { chunkDelayMs: 1500 } },
		ops: ['Send Message'],
		attempts: NEVER,
		message: [/LlamaCloud stopped sending the answer for 200 ms/],
		description: [/Stream Idle Timeout/, /check it with Session → Get/],
		options: { streamIdleTimeout: 200 },
	},
	{
		row: 'connection reset mid-stream',
		fault: { kind: 'stream', behaviour: { mode: 'drop-mid-stream' } },
		ops: ['Send Message'],
		attempts: NEVER,
		message: [/connection broke while LlamaCloud was answering/],
		description: [/not sent again/],
	},
];

interface Case {
	row: Row;
	op: OpName;
}

function descriptionOf({ row, op }: Case): RegExp[] {
	return Array.isArray(row.description) ? row.description : row.description[MODE[op]];
}

const CASES: Case[] = ROWS.flatMap((row) => row.ops.map((op) => ({ row, op })));
const TABLE = CASES.map((c) => [c.row.row, c.op, c] as const);

/** Item 1 fails when the fault targets one request; stream modes and a dead host fail every item. */
function failingItems(row: Row): number[] {
	return row.fault.kind === 'response' ? [1] : [0, 1, 2];
}

async function runRow({ row, op }: Case, continueOnFail: boolean) {
	const timeout = row.fault.kind === 'response' && row.fault.action.type === 'hang' ? 300 : 3000;
	const setup = await scenario(op, { maxRetries: MAX_RETRIES, timeout, ...row.options });
	let credentials: LlamaCloudCredentialData = credentialsFor(sandbox);
	if (row.fault.kind === 'response') {
		const { method, path, when } = setup.target(1);
		sandbox.injectFault({ method, path, when, times: Infinity, action: row.fault.action });
	} else if (row.fault.kind === 'stream') {
		sandbox.setStreamBehaviour(row.fault.behaviour);
	} else {
		credentials = credentialsFor(sandbox, await closedPortUrl());
	}
	const stats = { ...sandbox.stats };
	const result = await runs.run({
		credentials,
		items: setup.items,
		nodes: [{ name: 'LlamaCloud', parameters: setup.parameters, continueOnFail }],
	});
	return { result, setup, stats, attempts: row.attempts[MODE[op]] };
}

/** Every retry logged one warn line naming what failed; `perItem` retries for each failing item. */
function expectRetryLines(row: Row, failingCount: number, perItem: number): void {
	const lines = retryMetadata();
	expect(lines).toHaveLength(failingCount * perItem);
	expect(retryWarnings().every((line) => line.level === 'warn')).toBe(true);
	for (const line of lines) {
		expect(line.maxRetries).toBe(MAX_RETRIES);
		if (row.logged && 'status' in row.logged) expect(line.status).toBe(row.logged.status);
		if (row.logged && 'code' in row.logged) expect(line.code).toMatch(row.logged.code);
	}
	expect(mockSleeps).toEqual(lines.map((line) => line.delayMs));
}

async function expectStopsWithHelpfulError(c: Case): Promise<void> {
	const { result, setup, stats, attempts } = await runRow(c, false);
	const failing = failingItems(c.row)[0];

	const error = workflowError(result);
	expect(error.name).toBe('NodeApiError');
	expect(error.context?.itemIndex).toBe(failing);
	for (const pattern of c.row.message) expect(error.message).toMatch(pattern);
	for (const pattern of descriptionOf(c)) expect(error.description).toMatch(pattern);
	if (MODE[c.op] !== 'idempotent' && attempts === 1) expect(error.description).toMatch(NO_RETRIES_ADVICE);
	if (attempts > 1) expect(error.description).toContain(`Gave up after ${attempts - 1} retries.`);
	else expect(error.description).not.toContain('Gave up');

	// Attempts: counted at the sandbox, or (nothing listens) from the retry log lines.
	if (c.row.fault.kind !== 'refused') expect(setup.requestsFor(failing)).toHaveLength(attempts);
	else expect(sandbox.requests).toHaveLength(0);
	expectRetryLines(c.row, 1, attempts - 1);

	// The node stops at the failing item: items after it are never sent.
	for (let index = failing + 1; index < setup.items.length; index++) expect(setup.requestsFor(index)).toHaveLength(0);
	if (c.op === 'Create') expect(sandbox.stats.sessionsCreated - stats.sessionsCreated).toBe(failing);
	if (c.op === 'Send Message') {
		// Earlier items each started one turn; the failing one only if LlamaCloud began answering it.
		const reachedLlamaCloud = c.row.fault.kind === 'stream' ? 1 : 0;
		expect(sandbox.stats.turnsStarted - stats.turnsStarted).toBe(failing + reachedLlamaCloud);
		// Re-sent only after a 429 with Retry-After, which LlamaCloud answers instead of starting the turn.
		if (attempts === 1) expectNoMessageSentTwice();
	}
}

/** Each session got at most one message request: nothing was re-sent. */
function expectNoMessageSentTwice(): void {
	const streams = requestsWhere(sandbox, isStream);
	expect(new Set(streams.map((request) => request.path)).size).toBe(streams.length);
}

async function expectOneItemPerInput(c: Case): Promise<void> {
	const { result, setup, stats, attempts } = await runRow(c, true);
	const failing = failingItems(c.row);

	expect(result.error).toBeUndefined();
	const output = result.output('LlamaCloud');
	expect(output).toHaveLength(setup.items.length);
	output.forEach((item, index) => {
		expect(item.pairedItem).toEqual({ item: index });
		if (failing.includes(index)) {
			const json = expectErrorItem(item, index);
			expect(typeof json.description).toBe('string');
			expect(Object.keys(json).every((key) => ['error', 'description', 'httpCode'].includes(key))).toBe(true);
			if (c.row.fault.kind === 'response' && c.row.fault.action.type === 'status') {
				expect(json.httpCode).toBe(String(c.row.fault.action.status));
				expect(json.error).toMatch(c.row.message[0]);
			}
		} else {
			expect(item.json.error).toBeUndefined();
			expectSuccessItem(c.op, item.json, setup, index);
		}
	});

	// No duplicates: a session per successful Create, a turn per message request that reached LlamaCloud.
	if (c.op === 'Create') {
		const created = output.filter((item) => item.json.error === undefined);
		expect(sandbox.stats.sessionsCreated - stats.sessionsCreated).toBe(created.length);
	}
	if (c.op === 'Send Message') {
		const answered = output.filter((item) => item.json.error === undefined).length;
		const reachedLlamaCloud = c.row.fault.kind === 'stream' ? failing.length : 0;
		expect(sandbox.stats.turnsStarted - stats.turnsStarted).toBe(answered + reachedLlamaCloud);
		if (attempts === 1) expectNoMessageSentTwice();
	}
}

const isStream = (request: RecordedRequest) => request.method === 'POST' && request.path.endsWith('/messages/stream');

describe('Fault matrix: every operation under every kind of failure', () => {
	describe('without Continue On Fail, the workflow stops with an error that says what failed and what to do', () => {
		it.each(TABLE)('%s → %s', async (_row, _op, c) => {
			await expectStopsWithHelpfulError(c);
		});
	});

	describe('with Continue On Fail, every input item gives exactly one output item, in order', () => {
		it.each(TABLE)('%s → %s', async (_row, _op, c) => {
			await expectOneItemPerInput(c);
		});
	});
});

// ---- retry semantics ------------------------------------------------------------------------------

async function runOne(op: OpName, options: INodeParameters = {}, credentials?: LlamaCloudCredentialData) {
	const setup = await scenario(op, { maxRetries: MAX_RETRIES, timeout: 3000, ...options });
	const result = await runs.run({
		credentials: credentials ?? credentialsFor(sandbox),
		items: [setup.items[0]],
		nodes: [{ name: 'LlamaCloud', parameters: setup.parameters }],
	});
	return { setup, result };
}

function failOnce(setup: Scenario, action: FaultAction, times = 1): void {
	const { method, path, when } = setup.target(0);
	sandbox.injectFault({ method, path, when, times, action });
}

/** Injects the fault before the operation runs: `scenario` must exist first for the paths. */
async function runWithFault(op: OpName, action: FaultAction, times: number, options: INodeParameters = {}) {
	const setup = await scenario(op, { maxRetries: MAX_RETRIES, timeout: 3000, ...options });
	failOnce(setup, action, times);
	const stats = { ...sandbox.stats };
	const result = await runs.run({
		credentials: credentialsFor(sandbox),
		items: [setup.items[0]],
		nodes: [{ name: 'LlamaCloud', parameters: setup.parameters }],
	});
	return { setup, result, stats };
}

describe('Retry semantics', () => {
	describe('reads (Get Summary) are retried', () => {
		it('succeeds on the 3rd attempt after two 500s with Retries = 2, logging one warn line per retry', async () => {
			const { setup, result } = await runWithFault('Get Summary', { type: 'status', status: 500 }, 2);

			expect(result.error).toBeUndefined();
			expect(result.output('LlamaCloud')[0].json.session_id).toBe(setup.sessions[0]);
			expect(setup.requestsFor(0)).toHaveLength(3);
			const lines = retryMetadata();
			expect(lines.map((line) => [line.method, line.path, line.status, line.retry])).toEqual([
				['GET', `/api/v1/chat/${setup.sessions[0]}/summary`, 500, 1],
				['GET', `/api/v1/chat/${setup.sessions[0]}/summary`, 500, 2],
			]);
		});

		it('is not retried at all with Retries = 0', async () => {
			const { setup, result } = await runWithFault('Get Summary', { type: 'status', status: 500 }, 1, { maxRetries: 0 });

			expect(workflowError(result).message).toContain('LlamaCloud error 500');
			expect(setup.requestsFor(0)).toHaveLength(1);
			expect(retryWarnings()).toHaveLength(0);
		});

		it('makes one attempt when LlamaCloud says x-should-retry: false, even on a 503 with Retry-After', async () => {
			const { setup, result } = await runWithFault(
				'Get Summary',
				{ type: 'status', status: 503, headers: { 'x-should-retry': 'false', 'retry-after': '0' } },
				Infinity,
			);

			expect(workflowError(result).message).toContain('LlamaCloud error 503');
			expect(setup.requestsFor(0)).toHaveLength(1);
			expect(retryWarnings()).toHaveLength(0);
		});

		it('retries a 400 when LlamaCloud says x-should-retry: true', async () => {
			const { setup, result } = await runWithFault(
				'Get Summary',
				{ type: 'status', status: 400, body: { detail: 'Try again' }, headers: { 'x-should-retry': 'true', 'retry-after': '0' } },
				1,
			);

			expect(result.error).toBeUndefined();
			expect(setup.requestsFor(0)).toHaveLength(2);
			expect(retryMetadata().map((line) => line.status)).toEqual([400]);
		});

		it('bounds each attempt by the Timeout option (a silent server fails after it, not after 60 s)', async () => {
			const started = performance.now();
			const { setup, result } = await runWithFault('Get Summary', { type: 'hang' }, Infinity, { timeout: 300, maxRetries: 0 });
			const elapsed = performance.now() - started;

			expect(result.error).toBeDefined();
			expect(setup.requestsFor(0)).toHaveLength(1);
			expect(elapsed).toBeGreaterThanOrEqual(250);
			expect(elapsed).toBeLessThan(3000);
		});

		it('retries a timed-out read and succeeds when LlamaCloud answers the next attempt', async () => {
			const { setup, result } = await runWithFault('Get Summary', { type: 'hang' }, 1, { timeout: 300 });

			expect(result.error).toBeUndefined();
			expect(setup.requestsFor(0)).toHaveLength(2);
			expect(retryMetadata().map((line) => line.code)).toEqual([expect.stringMatching(/ECONNABORTED|ETIMEDOUT/)]);
		});

		it('retries a read whose connection was reset, and succeeds', async () => {
			const { setup, result } = await runWithFault('Get Summary', { type: 'drop' }, 1);

			expect(result.error).toBeUndefined();
			expect(setup.requestsFor(0)).toHaveLength(2);
			expect(retryMetadata().map((line) => line.code)).toEqual(['ECONNRESET']);
		});
	});

	describe('Create is only repeated when LlamaCloud provably did not act', () => {
		it('sends exactly ONE request on a 500 and creates no session', async () => {
			const { setup, result, stats } = await runWithFault('Create', { type: 'status', status: 500 }, Infinity);

			expect(workflowError(result).message).toContain('LlamaCloud error 500');
			expect(setup.requestsFor(0)).toHaveLength(1);
			expect(sandbox.stats.sessionsCreated - stats.sessionsCreated).toBe(0);
			expect(retryWarnings()).toHaveLength(0);
		});

		it('sends exactly ONE request when the connection is reset (the server may have created it)', async () => {
			const { setup, result } = await runWithFault('Create', { type: 'drop' }, Infinity);

			expect(result.error).toBeDefined();
			expect(setup.requestsFor(0)).toHaveLength(1);
			expect(retryWarnings()).toHaveLength(0);
		});

		it('retries a 429 with Retry-After and creates exactly one session', async () => {
			const { setup, result, stats } = await runWithFault(
				'Create',
				{ type: 'status', status: 429, body: { detail: 'Rate limit exceeded' }, headers: { 'retry-after': '0' } },
				1,
			);

			expect(result.error).toBeUndefined();
			const output = result.output('LlamaCloud');
			expect(output).toHaveLength(1);
			expect(output[0].json.session_id).toMatch(/^ses-/);
			expect(setup.requestsFor(0)).toHaveLength(2);
			expect(sandbox.stats.sessionsCreated - stats.sessionsCreated).toBe(1);
			expect(retryMetadata()).toEqual([expect.objectContaining({ method: 'POST', path: '/api/v1/chat', status: 429, retry: 1, delayMs: 0 })]);
		});

		it('retries a 503 with retry-after-ms and creates exactly one session', async () => {
			const { setup, result, stats } = await runWithFault('Create', { type: 'status', status: 503, headers: { 'retry-after-ms': '1' } }, 1);

			expect(result.error).toBeUndefined();
			expect(setup.requestsFor(0)).toHaveLength(2);
			expect(sandbox.stats.sessionsCreated - stats.sessionsCreated).toBe(1);
			expect(retryMetadata().map((line) => line.delayMs)).toEqual([1]);
		});

		it('does not retry a 503 without Retry-After, nor a 429 that says x-should-retry: false', async () => {
			const first = await runWithFault('Create', { type: 'status', status: 503 }, Infinity);
			expect(first.result.error).toBeDefined();
			expect(first.setup.requestsFor(0)).toHaveLength(1);

			sandbox.reset();
			const second = await runWithFault(
				'Create',
				{ type: 'status', status: 429, headers: { 'retry-after': '0', 'x-should-retry': 'false' } },
				Infinity,
			);
			expect(second.result.error).toBeDefined();
			expect(second.setup.requestsFor(0)).toHaveLength(1);
			expect(sandbox.stats.sessionsCreated).toBe(0);
			expect(retryWarnings()).toHaveLength(0);
		});

		it('does not take x-should-retry: true on a 500 as proof: one attempt, and the error says nothing was repeated', async () => {
			const { setup, result, stats } = await runWithFault(
				'Create',
				{ type: 'status', status: 500, headers: { 'x-should-retry': 'true', 'retry-after': '0' } },
				1,
			);

			const error = workflowError(result);
			expect(error.message).toContain('LlamaCloud error 500');
			expect(error.description).toMatch(/session was not created again, since the failed attempt may have created one/);
			expect(error.description).not.toMatch(/Retries/);
			expect(setup.requestsFor(0)).toHaveLength(1);
			expect(sandbox.stats.sessionsCreated - stats.sessionsCreated).toBe(0);
		});

		it('lets x-should-retry: false veto a 429 with Retry-After', async () => {
			const { setup, result } = await runWithFault(
				'Create',
				{ type: 'status', status: 429, headers: { 'x-should-retry': 'false', 'retry-after': '0' } },
				1,
			);

			expect(workflowError(result).message).toContain('LlamaCloud error 429');
			expect(setup.requestsFor(0)).toHaveLength(1);
		});

		it('retries a refused connection and gives up with ECONNREFUSED after Retries + 1 attempts', async () => {
			const { result } = await runOne('Create', {}, credentialsFor(sandbox, await closedPortUrl()));

			const error = workflowError(result);
			expect(error.message).toContain('ECONNREFUSED');
			expect(error.description).toContain(`Gave up after ${MAX_RETRIES} retries.`);
			expect(retryMetadata()).toEqual([
				expect.objectContaining({ method: 'POST', code: 'ECONNREFUSED', retry: 1 }),
				expect.objectContaining({ method: 'POST', code: 'ECONNREFUSED', retry: 2 }),
			]);
		});
	});

	describe('Send Message is never sent twice once LlamaCloud answered', () => {
		it.each([
			['a 503 with Retry-After', { type: 'status', status: 503, headers: { 'retry-after': '0' } }],
			['a 429 with retry-after-ms', { type: 'status', status: 429, headers: { 'retry-after-ms': '0' } }],
		] as Array<[string, FaultAction & { status: number }]>)(
			'sends the message again after %s (LlamaCloud turned it away), and the turn runs once',
			async (_label, action) => {
				const { setup, result, stats } = await runWithFault('Send Message', action, 1);

				expect(result.error).toBeUndefined();
				expect(result.output('LlamaCloud')[0].json.answer).toEqual(expect.any(String));
				expect(setup.requestsFor(0)).toHaveLength(2);
				expect(sandbox.stats.turnsStarted - stats.turnsStarted).toBe(1);
				expect(retryMetadata().map((line) => line.status)).toEqual([action.status]);
			},
		);

		it.each([
			['a 429 with Retry-After and x-should-retry: false', { type: 'status', status: 429, headers: { 'retry-after': '0', 'x-should-retry': 'false' } }],
			['a 429 without Retry-After, even with x-should-retry: true', { type: 'status', status: 429, headers: { 'x-should-retry': 'true' } }],
			['a 500', { type: 'status', status: 500 }],
			['a connection reset before any byte', { type: 'drop' }],
		] as Array<[string, FaultAction]>)('sends exactly one stream request on %s, starting no turn', async (_label, action) => {
			const { setup, result, stats } = await runWithFault('Send Message', action, Infinity);

			expect(result.error).toBeDefined();
			expect(setup.requestsFor(0)).toHaveLength(1);
			expect(sandbox.stats.turnsStarted - stats.turnsStarted).toBe(0);
			expect(retryWarnings()).toHaveLength(0);
		});

		it('does not cut off an answer whose pauses are longer than the Timeout (it bounds the start only)', async () => {
			sandbox.setStreamBehaviour({
				chunkDelayMs: 400,
				events: [
					{ type: 'text', content: 'Revenue grew 12%.' },
					{ type: 'stop', error: null, is_error: false, usage: { turns: 1 } },
				],
			});
			const started = performance.now();
			const { setup, result } = await runOne('Send Message', { timeout: 200 });

			expect(performance.now() - started).toBeGreaterThan(400);
			expect(result.error).toBeUndefined();
			expect(result.output('LlamaCloud')[0].json.answer).toBe('Revenue grew 12%.');
			expect(setup.requestsFor(0)).toHaveLength(1);
		});

		it('retries a refused connection (nothing reached LlamaCloud)', async () => {
			const { result } = await runOne('Send Message', {}, credentialsFor(sandbox, await closedPortUrl()));

			expect(workflowError(result).message).toContain('ECONNREFUSED');
			expect(retryMetadata().map((line) => line.code)).toEqual(['ECONNREFUSED', 'ECONNREFUSED']);
		});
	});

	describe('Delete counts a 404 on a retry as done', () => {
		it('outputs deleted: true when the first attempt failed with a 503 and the retry finds the session gone', async () => {
			const setup = await scenario('Delete', { maxRetries: MAX_RETRIES, timeout: 3000 });
			// The first attempt deleted it but its answer was lost: emulated by deleting it beforehand
			// and answering that attempt with a 503, so the retry meets a 404.
			await deleteOverHttp(sandbox, setup.sessions[0]);
			failOnce(setup, { type: 'status', status: 503, headers: { 'retry-after': '0' } });
			const deletedBefore = sandbox.stats.sessionsDeleted;

			const result = await runs.run({
				credentials: credentialsFor(sandbox),
				items: [setup.items[0]],
				nodes: [{ name: 'LlamaCloud', parameters: setup.parameters }],
			});

			expect(result.error).toBeUndefined();
			expect(result.output('LlamaCloud')).toEqual([{ json: { deleted: true, session_id: setup.sessions[0] }, pairedItem: { item: 0 } }]);
			expect(setup.requestsFor(0)).toHaveLength(2);
			expect(sandbox.stats.sessionsDeleted).toBe(deletedBefore);
			expect(retryMetadata().map((line) => line.status)).toEqual([503]);
		});

		it('still fails on a 404 at the first attempt (the session never existed or is gone already)', async () => {
			const { setup, result } = await runOne('Delete', {});
			expect(result.error).toBeUndefined();

			sandbox.clearRequests();
			const again = await runs.run({
				credentials: credentialsFor(sandbox),
				items: [setup.items[0]],
				nodes: [{ name: 'LlamaCloud', parameters: setup.parameters }],
			});
			expect(workflowError(again).message).toBe('LlamaCloud error 404: Session not found');
			expect(setup.requestsFor(0)).toHaveLength(1);
		});

		it('outputs deleted: true when the first attempt was cut off (reset) and the retry finds the session gone', async () => {
			const setup = await scenario('Delete', { maxRetries: MAX_RETRIES, timeout: 3000 });
			await deleteOverHttp(sandbox, setup.sessions[0]);
			failOnce(setup, { type: 'drop' });

			const result = await runs.run({
				credentials: credentialsFor(sandbox),
				items: [setup.items[0]],
				nodes: [{ name: 'LlamaCloud', parameters: setup.parameters }],
			});

			expect(result.error).toBeUndefined();
			expect(result.output('LlamaCloud')[0].json).toEqual({ deleted: true, session_id: setup.sessions[0] });
			expect(setup.requestsFor(0)).toHaveLength(2);
		});
	});

	describe('waits', () => {
		const httpDate = (inMs: number) => new Date(Date.now() + inMs).toUTCString();

		it.each([
			['Retry-After in seconds', () => ({ 'retry-after': '2' }), [2000, 2000]],
			['retry-after-ms, which wins over Retry-After', () => ({ 'retry-after-ms': '250', 'retry-after': '5' }), [250, 250]],
			['Retry-After as an HTTP date', () => ({ 'retry-after': httpDate(3000) }), [1000, 3000]],
			['an HTTP date in the past', () => ({ 'retry-after': httpDate(-60_000) }), [0, 0]],
			// The longest wait made; a longer one fails at once (list-and-wait-limits.test.ts).
			['a Retry-After of 60 s, the longest waited', () => ({ 'retry-after': '60' }), [60_000, 60_000]],
			// Math.random is fixed at 0.5 below: jitter takes 12.5 % off the 0.5 s backoff (never 500 exactly).
			['no hint (backoff 0.5 s with jitter)', () => ({}), [438, 438]],
			['an unreadable Retry-After (backoff)', () => ({ 'retry-after': 'soon' }), [438, 438]],
		] as Array<[string, () => Record<string, string>, [number, number]]>)('waits as told by %s', async (_label, headers, [min, max]) => {
			jest.spyOn(Math, 'random').mockReturnValue(0.5);
			const { result } = await runWithFault('Get Summary', { type: 'status', status: 429, headers: headers() }, 1);

			expect(result.error).toBeUndefined();
			const [line] = retryMetadata();
			expect(retryMetadata()).toHaveLength(1);
			expect(line.delayMs).toBeGreaterThanOrEqual(min);
			expect(line.delayMs).toBeLessThanOrEqual(max);
			// What was slept, checked against the expected range itself (not against the logged value).
			expect(mockSleeps).toHaveLength(1);
			expect(mockSleeps[0]).toBeGreaterThanOrEqual(min);
			expect(mockSleeps[0]).toBeLessThanOrEqual(max);
		});

		it('backs off exponentially without a hint: 0.5 s, 1 s, 2 s, each jittered (random fixed at 0.5: 12.5 % off)', async () => {
			jest.spyOn(Math, 'random').mockReturnValue(0.5);
			const { setup, result } = await runWithFault('Get Summary', { type: 'status', status: 503 }, 3, { maxRetries: 3 });

			expect(result.error).toBeUndefined();
			expect(setup.requestsFor(0)).toHaveLength(4);
			expect(retryMetadata().map((line) => line.delayMs)).toEqual([438, 875, 1750]);
			expect(mockSleeps).toEqual([438, 875, 1750]);
		});
	});
});

// ---- Continue On Fail with an error output, a wrong key, odd success bodies, pages, Ask ------------

describe('Continue On Fail with "On Error: Continue (using error output)"', () => {
	// Regression: n8n moves an item to the error output only when the item itself carries `error`.
	it('sends failed items to the error output and the others to the success output', async () => {
		const setup = await scenario('Get Summary', { maxRetries: 0 });
		const { method, path } = setup.target(1);
		sandbox.injectFault({ method, path, times: Infinity, action: { type: 'status', status: 404, body: { detail: 'Session not found' } } });
		const workflow = buildWorkflow([{ name: 'LlamaCloud', parameters: setup.parameters, continueOnFail: true }]);
		workflow.nodes.LlamaCloud.onError = 'continueErrorOutput';

		const result = await runs.runBuilt(workflow, 'LlamaCloud', setup.items, credentialsFor(sandbox));

		expect(result.error).toBeUndefined();
		const [success, errors] = result.run.data.resultData.runData.LlamaCloud[0].data?.main ?? [];
		expect(success?.map((item) => [item.json.session_id, item.pairedItem])).toEqual([
			[setup.sessions[0], { item: 0 }],
			[setup.sessions[2], { item: 2 }],
		]);
		expect(errors).toHaveLength(1);
		expect(errors?.[0].pairedItem).toEqual({ item: 1 });
		expect(errors?.[0].json.error).toBe('LlamaCloud error 404: Session not found');
	});
});

describe('A wrong API key', () => {
	it('fails with 401 and the credential hint, is not retried, and the key used appears nowhere', async () => {
		const wrongKey = 'llx-wrong-0f1e2d3c4b5a69788796a5b4c3d2e1f0';
		const setup = await scenario('Get Summary', { maxRetries: MAX_RETRIES });

		const result = await runs.run({
			credentials: { ...credentialsFor(sandbox), apiKey: wrongKey },
			items: [setup.items[0]],
			nodes: [{ name: 'LlamaCloud', parameters: setup.parameters }],
		});

		const error = workflowError(result);
		expect(error.message).toBe('LlamaCloud error 401: Invalid authentication token');
		expect(error.description).toMatch(/API key/);
		expect(setup.requestsFor(0)).toHaveLength(1);
		expect(setup.requestsFor(0)[0].headers.authorization).toBe(`Bearer ${wrongKey}`);
		expect(JSON.stringify(result.run)).not.toContain(wrongKey);
		expect(JSON.stringify(logLines)).not.toContain(wrongKey);
	});
});

describe('A success status whose body is not a JSON object (e.g. a proxy login page)', () => {
	// Regression: a 2xx whose body is not LlamaCloud's JSON (a proxy or login page) is an error, not an item.
	it.each([
		['Create', 'an HTML page', { type: 'status', status: 200, body: '<html><body><h1>Sign in to the proxy</h1></body></html>', contentType: 'text/html' }],
		['Get Summary', 'an HTML page', { type: 'status', status: 200, body: '<html><body><h1>Sign in to the proxy</h1></body></html>', contentType: 'text/html' }],
		['Create', 'an empty body', { type: 'status', status: 200, body: '', contentType: 'application/json' }],
		['Get Summary', 'a JSON array', { type: 'status', status: 200, body: [1, 2, 3] }],
	] as Array<[OpName, string, FaultAction]>)('%s: %s becomes an error item, not an item whose json is not an object', async (op, _label, action) => {
		const setup = await scenario(op, { maxRetries: MAX_RETRIES });
		failOnce(setup, action);

		const result = await runs.run({
			credentials: credentialsFor(sandbox),
			items: [setup.items[0]],
			nodes: [{ name: 'LlamaCloud', parameters: setup.parameters, continueOnFail: true }],
		});

		const output = result.output('LlamaCloud');
		expect(output).toHaveLength(1);
		expect(typeof output[0].json).toBe('object');
		expect(Array.isArray(output[0].json)).toBe(false);
		expectErrorItem(output[0], 0);
		expect(output[0].json.error).toContain('LlamaCloud');
	});
});

describe('Get Many', () => {
	it('retries only the page that failed and returns every session exactly once', async () => {
		const ids = sandbox.addSessions(sandbox.fixtures.defaultProjectId, 130);
		sandbox.injectFault({
			method: 'GET',
			path: '/api/v1/chat',
			when: (request) => typeof request.query.page_token === 'string' && request.query.page_token !== '',
			action: { type: 'status', status: 503, headers: { 'retry-after': '0' } },
		});

		const result = await runs.run({
			credentials: credentialsFor(sandbox),
			items: [{}],
			nodes: [
				{
					name: 'LlamaCloud',
					parameters: { resource: 'session', operation: 'getAll', returnAll: true, options: { maxRetries: MAX_RETRIES } },
				},
			],
		});

		expect(result.error).toBeUndefined();
		const sessionIds = result.output('LlamaCloud').map((item) => item.json.session_id as string);
		expect(sessionIds).toHaveLength(130);
		expect([...sessionIds].sort()).toEqual([...ids].sort());
		const pages = requestsWhere(sandbox, (request) => request.method === 'GET' && request.path === '/api/v1/chat');
		const tokens = pages.map((request) => request.query.page_token ?? null);
		expect(tokens).toHaveLength(3);
		expect(tokens[0]).toBeNull();
		expect(tokens[1]).toEqual(expect.any(String));
		expect(tokens[2]).toBe(tokens[1]);
		expect(retryMetadata()).toEqual([expect.objectContaining({ method: 'GET', path: '/api/v1/chat', status: 503, retry: 1 })]);
	});
});

describe('Ask (Create and Send in one step)', () => {
	const isAskCreate = (request: RecordedRequest) => request.method === 'POST' && request.path === '/api/v1/chat';

	async function ask(items: IDataObject[], options: INodeParameters = {}, continueOnFail = false) {
		return await runs.run({
			credentials: credentialsFor(sandbox),
			items,
			nodes: [
				{
					name: 'Ask',
					parameters: {
						resource: 'message',
						operation: 'ask',
						prompt: '={{ $json.question }}',
						indexIds: ['idx-q3-reports'],
						options: { maxRetries: MAX_RETRIES, timeout: 3000, ...options },
					},
					continueOnFail,
				},
			],
		});
	}

	it('creates one session and re-sends the question only while LlamaCloud turns it away with Retry-After; the error names the session', async () => {
		sandbox.injectFault({
			method: 'POST',
			path: /\/messages\/stream$/,
			times: Infinity,
			action: { type: 'status', status: 503, body: { detail: 'Overloaded' }, headers: { 'retry-after': '0' } },
		});

		const result = await ask([{ question: PROMPT }]);

		const error = workflowError(result);
		expect(error.message).toBe('LlamaCloud error 503: Overloaded');
		const sessionId = /Session (ses-[\w-]+) was created for this question\.$/.exec(error.description ?? '')?.[1];
		expect(sessionId).toBeDefined();
		expect(error.description).toBe(
			`LlamaCloud had a server problem; it is usually temporary. Try again later, or raise 'Retries'. Gave up after ${MAX_RETRIES} retries. LlamaCloud answered with an error instead of starting the turn. Session ${sessionId} was created for this question.`,
		);
		expect(sandbox.getSession(sessionId as string)).toBeDefined();
		expect(sandbox.stats.sessionsCreated).toBe(1);
		expect(requestsWhere(sandbox, isStream)).toHaveLength(MAX_RETRIES + 1);
		expect(sandbox.stats.turnsStarted).toBe(0);
	});

	it('retries its Create on a 429 with Retry-After, then asks once', async () => {
		sandbox.injectFault({ method: 'POST', path: '/api/v1/chat', action: { type: 'status', status: 429, headers: { 'retry-after': '0' } } });

		const result = await ask([{ question: PROMPT }]);

		expect(result.error).toBeUndefined();
		expect(result.output('Ask')[0].json.answer).toEqual(expect.stringMatching(/\S/));
		expect(requestsWhere(sandbox, isAskCreate)).toHaveLength(2);
		expect(sandbox.stats.sessionsCreated).toBe(1);
		expect(sandbox.stats.turnsStarted).toBe(1);
	});

	it('keeps the answer when deleting the session afterwards fails, after retrying the delete', async () => {
		sandbox.injectFault({ method: 'DELETE', times: Infinity, action: { type: 'status', status: 500, headers: { 'retry-after': '0' } } });

		const result = await ask([{ question: PROMPT }], { deleteSession: true });

		expect(result.error).toBeUndefined();
		const [{ json }] = result.output('Ask');
		expect(json.answer).toEqual(expect.stringMatching(/\S/));
		expect(json.session_deleted).toBe(false);
		expect(json.session_delete_error).toContain('LlamaCloud error 500');
		expect(requestsWhere(sandbox, (request) => request.method === 'DELETE')).toHaveLength(MAX_RETRIES + 1);
		expect(retryMetadata().map((line) => line.method)).toEqual(['DELETE', 'DELETE']);
		expect(logLines.filter((line) => line.level === 'warn' && /could not be deleted/.test(line.message))).toHaveLength(1);
	});

	it('with Continue On Fail, gives one item per question: an error item naming its session where the message failed', async () => {
		sandbox.injectFault({
			method: 'POST',
			path: /\/messages\/stream$/,
			when: (request) => (request.body as IDataObject | undefined)?.prompt === 'Question 1',
			times: Infinity,
			action: { type: 'status', status: 500, body: { detail: 'Agent crashed' } },
		});

		const result = await ask([0, 1, 2].map((n) => ({ question: `Question ${n}` })), { batching: { batch: { batchSize: 3 } } }, true);

		expect(result.error).toBeUndefined();
		const output = result.output('Ask');
		expect(output.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		const failed = expectErrorItem(output[1], 1);
		expect(failed.error).toBe('LlamaCloud error 500: Agent crashed');
		expect(failed.description).toMatch(/check session (ses-[\w-]+) with Session → Get before sending it again\. Session \1 was created for this question\.$/);
		expect(output[0].json.answer).toEqual(expect.stringMatching(/\S/));
		expect(output[2].json.answer).toEqual(expect.stringMatching(/\S/));
		expect(sandbox.stats.sessionsCreated).toBe(3);
		expect(sandbox.stats.turnsStarted).toBe(2);
		expect(requestsWhere(sandbox, isStream)).toHaveLength(3);
	});
});
