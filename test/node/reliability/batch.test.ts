// Reliability: 'Items per Batch' and 'Batch Interval' under load and partial failure. 100-item runs
// in which a seeded random ~15 % of the requests fail, Continue On Fail on: the output must still
// be one item per input item, in input order, with errors exactly where the faults were and no
// duplicate session or chat turn. Then: concurrency is real, bounded, and the interval pauses.

import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { useSandbox } from '../../harness/support';
import type { FaultAction, RecordedRequest, Sandbox } from '../../sandbox';
import {
	TrackedRuns,
	arrivalTimes,
	byId,
	credentialsFor,
	expectErrorItem,
	pick,
	requestsWhere,
	retryMetadata,
	retryWarnings,
	sample,
	seedSessions,
	seededRandom,
	workflowError,
} from './support';

let sandbox: Sandbox;
const runs = new TrackedRuns();

useSandbox((started) => (sandbox = started));

afterEach(() => {
	runs.expectNoSecrets(sandbox.apiKey);
});


const ITEMS = 100;
const BATCH_SIZE = 10;
const FAULTED = 15;
const SEED = 0x5eed_2026;

const batching = (batchSize: number, batchInterval?: number): INodeParameters => ({
	batch: batchInterval === undefined ? { batchSize } : { batchSize, batchInterval },
});

/** Failures after which a Create must not be repeated (LlamaCloud may have acted). */
const CREATE_FAULTS: FaultAction[] = [
	{ type: 'status', status: 500, body: { detail: 'Internal Server Error' } },
	{ type: 'status', status: 503, body: { detail: 'Service Unavailable' } },
	{ type: 'status', status: 429, body: { detail: 'Rate limit exceeded' } },
	{ type: 'status', status: 400, body: { detail: 'Bad request' } },
	{ type: 'status', status: 409, body: { detail: 'Conflict' } },
	{ type: 'drop' },
];

/** Failures of a message request: never re-sent, whatever LlamaCloud says. */
const STREAM_FAULTS: FaultAction[] = [
	{ type: 'status', status: 503, body: { detail: 'Service Unavailable' }, headers: { 'retry-after': '0' } },
	{ type: 'status', status: 429, body: { detail: 'Rate limit exceeded' }, headers: { 'retry-after': '0' } },
	{ type: 'status', status: 500, body: { detail: 'Internal Server Error' } },
	{ type: 'status', status: 404, body: { detail: 'Session not found' } },
	{ type: 'drop' },
];

function shuffle<T>(random: () => number, values: T[]): T[] {
	const copy = [...values];
	for (let i = copy.length - 1; i > 0; i--) {
		const j = Math.floor(random() * (i + 1));
		[copy[i], copy[j]] = [copy[j], copy[i]];
	}
	return copy;
}

const boundIndexOf = (request: RecordedRequest): unknown => (request.body as IDataObject | undefined)?.index_ids;
const isCreate = (request: RecordedRequest) => request.method === 'POST' && request.path === '/api/v1/chat';
const isStream = (request: RecordedRequest) => request.method === 'POST' && request.path.endsWith('/messages/stream');

describe('Batching with partial failures (Continue On Fail, 100 items, 10 per batch)', () => {
	it('Create: errors exactly on the faulted items, sessions on the others, in input order, and no duplicate session', async () => {
		const random = seededRandom(SEED);
		const indexes = sandbox.addIndexes(sandbox.fixtures.defaultProjectId, ITEMS, 'Batch').map((index) => index.id);
		// 15 items fail for good; 8 more get a 429 with retry-after-ms once, which Create may retry.
		const [faulted, transient] = ((chosen) => [new Set(chosen.slice(0, FAULTED)), new Set(chosen.slice(FAULTED))])(
			shuffle(random, sample(random, ITEMS, FAULTED + 8)),
		);
		for (const item of [...faulted, ...transient]) {
			const index = indexes[item];
			sandbox.injectFault({
				method: 'POST',
				path: '/api/v1/chat',
				when: (request) => JSON.stringify(boundIndexOf(request)) === JSON.stringify([index]),
				times: faulted.has(item) ? Infinity : 1,
				action: faulted.has(item)
					? pick(random, CREATE_FAULTS)
					: { type: 'status', status: 429, body: { detail: 'Rate limit exceeded' }, headers: { 'retry-after-ms': '1' } },
			});
		}

		const result = await runs.run({
			credentials: credentialsFor(sandbox),
			items: indexes.map((index, n) => ({ index, n })),
			nodes: [
				{
					name: 'Create',
					parameters: {
						resource: 'session',
						operation: 'create',
						indexIds: '={{ $json.index }}',
						options: { batching: batching(BATCH_SIZE), maxRetries: 2, timeout: 5000 },
					},
					continueOnFail: true,
				},
			],
		});

		expect(result.error).toBeUndefined();
		const output = result.output('Create');
		expect(output).toHaveLength(ITEMS);
		const sessionIds: string[] = [];
		output.forEach((item, n) => {
			expect(item.pairedItem).toEqual({ item: n });
			if (faulted.has(n)) {
				expectErrorItem(item, n);
			} else {
				expect(item.json.error).toBeUndefined();
				expect(item.json.index_ids).toEqual([indexes[n]]);
				expect(sandbox.getSession(item.json.session_id as string)?.index_ids).toEqual([indexes[n]]);
				sessionIds.push(item.json.session_id as string);
			}
		});
		expect(output.filter((item) => item.json.error !== undefined)).toHaveLength(FAULTED);

		// One session per successful item, none for a failed one, none twice.
		expect(new Set(sessionIds).size).toBe(ITEMS - FAULTED);
		expect(sandbox.stats.sessionsCreated).toBe(ITEMS - FAULTED);
		// A failed Create was sent once; a retried one twice; every other item once.
		indexes.forEach((index, n) => {
			const sent = requestsWhere(sandbox, (request) => isCreate(request) && JSON.stringify(boundIndexOf(request)) === JSON.stringify([index]));
			expect(sent).toHaveLength(transient.has(n) ? 2 : 1);
		});
		expect(retryMetadata()).toHaveLength(transient.size);
		expect(retryMetadata().every((line) => line.status === 429 && line.delayMs === 1)).toBe(true);
	});

	it('Send Message: errors exactly on the faulted items, answers on the others, in input order, and no duplicate turn', async () => {
		const random = seededRandom(SEED + 1);
		const sessions = await seedSessions(sandbox, ITEMS);
		const faulted = new Set(sample(random, ITEMS, FAULTED));
		// A 429/503 with Retry-After proves LlamaCloud did not act: those messages are sent again (Retries = 2).
		const turnedAway = new Set<number>();
		for (const item of faulted) {
			const action = pick(random, STREAM_FAULTS);
			if (action.type === 'status' && action.headers?.['retry-after'] !== undefined) turnedAway.add(item);
			sandbox.injectFault({
				method: 'POST',
				path: `/api/v1/chat/${sessions[item]}/messages/stream`,
				times: Infinity,
				action,
			});
		}
		expect(turnedAway.size).toBeGreaterThan(0);
		expect(turnedAway.size).toBeLessThan(FAULTED);
		const stats = { ...sandbox.stats };

		const result = await runs.run({
			credentials: credentialsFor(sandbox),
			items: sessions.map((session_id, n) => ({ session_id, n })),
			nodes: [
				{
					name: 'Send',
					parameters: {
						resource: 'message',
						operation: 'send',
						sessionId: byId('={{ $json.session_id }}'),
						prompt: '={{ "Question number " + $json.n }}',
						indexIds: ['idx-q3-reports'],
						options: { batching: batching(BATCH_SIZE), maxRetries: 2, timeout: 5000 },
					},
					continueOnFail: true,
				},
			],
		});

		expect(result.error).toBeUndefined();
		const output = result.output('Send');
		expect(output).toHaveLength(ITEMS);
		output.forEach((item, n) => {
			expect(item.pairedItem).toEqual({ item: n });
			const prompts = (sandbox.getSession(sessions[n])?.events as IDataObject[])
				.filter((event) => event.type === 'user_input')
				.map((event) => event.content);
			if (faulted.has(n)) {
				expectErrorItem(item, n);
				expect(prompts).toEqual([]);
			} else {
				expect(item.json.error).toBeUndefined();
				expect(item.json.session_id).toBe(sessions[n]);
				expect(item.json.answer).toEqual(expect.stringMatching(/\S/));
				// Each session got its own item's question, exactly once, even 10 at a time.
				expect(prompts).toEqual([`Question number ${n}`]);
			}
		});

		const answered = ITEMS - FAULTED;
		expect(sandbox.stats.turnsStarted - stats.turnsStarted).toBe(answered);
		expect(sandbox.stats.turnsCompleted - stats.turnsCompleted).toBe(answered);
		const streams = requestsWhere(sandbox, isStream);
		expect(new Set(streams.map((request) => request.path)).size).toBe(ITEMS);
		// Sent once each, except the turned-away ones: 1 + 2 retries, and none of them started a turn.
		sessions.forEach((session, n) => {
			const sent = streams.filter((request) => request.path === `/api/v1/chat/${session}/messages/stream`);
			expect(sent).toHaveLength(turnedAway.has(n) ? 3 : 1);
		});
		expect(retryWarnings()).toHaveLength(2 * turnedAway.size);
	});
});

describe('Batching without Continue On Fail', () => {
	it('stops at the first failing item in input order and starts no item after the batch in flight', async () => {
		const sessions = await seedSessions(sandbox, 40);
		// Faults answer before the sandbox's latency, so item 12 fails while the items around it are
		// still waiting: at that moment at most `batchSize - 1` later items can have started.
		sandbox.setLatency(50);
		for (const item of [12, 14]) {
			sandbox.injectFault({
				method: 'GET',
				path: `/api/v1/chat/${sessions[item]}/summary`,
				times: Infinity,
				action: { type: 'status', status: 404, body: { detail: `Session ${item} not found` } },
			});
		}
		const batchSize = 5;

		const result = await runs.run({
			credentials: credentialsFor(sandbox),
			items: sessions.map((session_id) => ({ session_id })),
			nodes: [
				{
					name: 'Summary',
					parameters: {
						resource: 'session',
						operation: 'getSummary',
						sessionId: byId('={{ $json.session_id }}'),
						options: { batching: batching(batchSize), maxRetries: 0 },
					},
				},
			],
		});

		const error = workflowError(result);
		expect(error.context?.itemIndex).toBe(12);
		expect(error.message).toBe('LlamaCloud error 404: Session 12 not found');
		const requested = new Set(sandbox.requests.map((request) => sessions.indexOf(request.path.split('/')[4])));
		for (let item = 0; item <= 12; item++) expect(requested.has(item)).toBe(true);
		for (let item = 12 + batchSize; item < sessions.length; item++) expect(requested.has(item)).toBe(false);
	});
});

describe('Concurrency', () => {
	async function summaries(sessions: string[], options: INodeParameters) {
		const parameters: INodeParameters = {
			resource: 'session',
			operation: 'getSummary',
			sessionId: byId('={{ $json.session_id }}'),
			options,
		};
		const started = performance.now();
		const result = await runs.run({
			credentials: credentialsFor(sandbox),
			items: sessions.map((session_id) => ({ session_id })),
			nodes: [{ name: 'Summary', parameters }],
		});
		const elapsed = performance.now() - started;
		expect(result.error).toBeUndefined();
		// Output order always matches input order, whatever order the answers came back in.
		expect(result.output('Summary').map((item) => [item.json.session_id, item.pairedItem])).toEqual(
			sessions.map((session_id, n) => [session_id, { item: n }]),
		);
		return elapsed;
	}

	it('runs up to Items per Batch requests at once: 20 items at 100 ms latency, 10 per batch, take well under 20 × 100 ms', async () => {
		const sessions = await seedSessions(sandbox, 20);
		sandbox.setLatency(100);
		const arrivals = arrivalTimes(sandbox);

		const elapsed = await summaries(sessions, { batching: batching(10) });

		expect(elapsed).toBeLessThan(1000);
		expect(arrivals).toHaveLength(20);
		// The first 10 are all in flight before any answer (100 ms) comes back ...
		expect(arrivals[9] - arrivals[0]).toBeLessThan(80);
		// ... and the 11th waits for a free slot: never more than 10 at once.
		expect(arrivals[10] - arrivals[0]).toBeGreaterThanOrEqual(90);
	});

	it('runs one item at a time by default', async () => {
		const sessions = await seedSessions(sandbox, 4);
		sandbox.setLatency(60);
		const arrivals = arrivalTimes(sandbox);

		const elapsed = await summaries(sessions, {});

		expect(elapsed).toBeGreaterThanOrEqual(4 * 55);
		for (let n = 1; n < arrivals.length; n++) expect(arrivals[n] - arrivals[n - 1]).toBeGreaterThanOrEqual(55);
	});

	it('keeps output in input order when answers come back out of order', async () => {
		const sessions = await seedSessions(sandbox, 30);
		sandbox.setLatency({ min: 1, max: 80 });

		await summaries(sessions, { batching: batching(10) });
	});

	it('pauses Batch Interval between batches: 4 items, 2 per batch, 300 ms interval', async () => {
		const sessions = await seedSessions(sandbox, 4);
		const arrivals = arrivalTimes(sandbox);

		const elapsed = await summaries(sessions, { batching: batching(2, 300) });

		expect(elapsed).toBeGreaterThanOrEqual(300);
		expect(arrivals).toHaveLength(4);
		// Items of one batch start together; the next batch starts after the pause.
		expect(arrivals[1] - arrivals[0]).toBeLessThan(100);
		expect(arrivals[3] - arrivals[2]).toBeLessThan(100);
		expect(arrivals[2] - arrivals[1]).toBeGreaterThanOrEqual(290);
	});
});
