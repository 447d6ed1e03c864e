/* eslint-disable @n8n/community-nodes/no-restricted-globals, no-console -- Node.js test code, never run inside n8n */
// One conversation, two n8n processes: two loaded copies of the node (and of n8n-core), each with its
// own in-process queue, sharing a REAL Redis Chat Memory, built as n8n builds it (LangChain's
// RedisChatMessageHistory under BufferWindowMemory). n8n's chat widget shares one sessionId across
// tabs, so in queue mode two workers can take two messages of one conversation at once.
// - Two first messages: each creates a session. Every process then continues the newest reference by
//   its own time, so they converge; a process that finds another turn saved since it read the memory
//   says so (`conversation.warning` and a log warning).
// - Two follow-ups: both continue the same session; LlamaCloud (here the sandbox) refuses the second
//   while the first is answered (409), and that message fails, sent once.

import type { IConnections, IDataObject } from 'n8n-workflow';

import { CONCURRENT_TURN_WARNING } from '../../../nodes/LlamaCloudChat/conversations/memoryStore';
import type * as Logs from '../../harness/logs';
import { MEMORY_NODE_TYPE } from '../../harness/memory-node';
import type * as MemoryNode from '../../harness/memory-node';
import { REDIS_INSTALL_HINT, redisServerInstalled, startRedis, type RunningRedis } from '../../harness/redis';
import type * as RunWorkflow from '../../harness/run-workflow';
import { useSandbox } from '../../harness/support';
import type * as Teardown from '../../harness/teardown';
import type { Sandbox } from '../../sandbox';
import { credentialsFor, streamRequests } from './support';

/** One n8n process: its own copy of the node, n8n-core and the harness (no module shared with another). */
interface N8nProcess {
	runWorkflow: typeof RunWorkflow.runWorkflow;
	logLines: typeof Logs.logLines;
	stop(): Promise<void>;
}

function loadProcess(): N8nProcess {
	let loaded: N8nProcess | undefined;
	jest.isolateModules(() => {
		/* eslint-disable @typescript-eslint/no-require-imports -- a second module registry needs require */
		const run = require('../../harness/run-workflow') as typeof RunWorkflow;
		const logs = require('../../harness/logs') as typeof Logs;
		const teardown = require('../../harness/teardown') as typeof Teardown;
		const memories = require('../../harness/memory-node') as typeof MemoryNode;
		/* eslint-enable @typescript-eslint/no-require-imports */
		const stop = async () => {
			await memories.closeRedisClients();
			teardown.stopEngineServices();
		};
		loaded = { runWorkflow: run.runWorkflow, logLines: logs.logLines, stop };
	});
	return loaded as N8nProcess;
}

let sandbox: Sandbox;
let redis: RunningRedis | undefined;
const processes: N8nProcess[] = [];

useSandbox((started) => (sandbox = started));

const installed = redisServerInstalled();
// Under CI a missing redis-server fails (beforeAll throws); elsewhere the file is skipped.
const describeWithRedis = installed || process.env.CI ? describe : describe.skip;
if (!installed && !process.env.CI) console.warn(`memory-concurrency: redis-server is not installed (${REDIS_INSTALL_HINT}); skipped`);

describeWithRedis('one conversation on two n8n processes sharing a Redis Chat Memory', () => {
	beforeAll(async () => {
		if (!installed) throw new Error(`redis-server is not installed; CI needs it: ${REDIS_INSTALL_HINT}`);
		redis = await startRedis();
		processes.push(loadProcess(), loadProcess());
	}, 60_000);

	afterAll(async () => {
		for (const copy of processes) await copy.stop();
		await redis?.stop();
	});

	beforeEach(() => {
		for (const copy of processes) copy.logLines.length = 0;
		// Each answer takes a second or more: the other process's message arrives while it streams.
		sandbox.setStreamBehaviour({ contextAnswers: true, deltaDelayMs: 150 });
	});

	const MEMORY_INPUT: IConnections = { Memory: { ai_memory: [[{ node: 'Ask', type: 'ai_memory', index: 0 }]] } };

	async function chat(copy: N8nProcess, sessionId: string, chatInput: string) {
		return await copy.runWorkflow({
			credentials: credentialsFor(sandbox),
			mode: 'webhook',
			items: [{ sessionId, action: 'sendMessage', chatInput }],
			nodes: [
				{ name: 'Ask', parameters: { resource: 'message', operation: 'ask', indexIds: ['idx-q3-reports'] } },
				{ name: 'Memory', type: MEMORY_NODE_TYPE, parameters: { kind: 'redis', redisUrl: (redis as RunningRedis).url } },
			],
			connections: MEMORY_INPUT,
		});
	}

	const conversationOf = (result: RunWorkflow.RunResult) => {
		if (result.error) throw new Error(`The workflow failed: ${result.error.message}`);
		return result.output('Ask')[0].json.conversation as IDataObject;
	};

	/** Resolves once the sandbox has received `count` messages (the first process is then answering). */
	async function messagesReceived(count: number): Promise<void> {
		for (let attempt = 0; attempt < 600 && streamRequests(sandbox).length < count; attempt++) {
			await new Promise((resolve) => setTimeout(resolve, 10));
		}
		expect(streamRequests(sandbox)).toHaveLength(count);
	}

	it('two first messages at once: two sessions; the turn that finds the other says so, and both processes continue one session', async () => {
		const [a, b] = processes;
		const first = chat(a, 'chat-two-tabs', 'What grew in Q3?');
		await messagesReceived(1);
		const second = chat(b, 'chat-two-tabs', 'What does the handbook say?');
		const [fromA, fromB] = (await Promise.all([first, second])).map(conversationOf);

		expect(fromA).toMatchObject({ turn: 1, new_session: true, store: 'memory' });
		expect(fromB).toMatchObject({ turn: 1, new_session: true, store: 'memory' });
		expect(fromA.session_id).not.toBe(fromB.session_id);
		expect(sandbox.stats.sessionsCreated).toBe(2);
		// Whichever saved second read the other's turn back: its output and its log say so.
		const warned = [fromA, fromB].filter((conversation) => conversation.warning === CONCURRENT_TURN_WARNING);
		expect(warned.length).toBeGreaterThanOrEqual(1);
		for (const [index, conversation] of [fromA, fromB].entries()) {
			const logged = processes[index].logLines.filter((line) => line.level === 'warn' && line.message === CONCURRENT_TURN_WARNING);
			expect(logged).toHaveLength(conversation.warning === CONCURRENT_TURN_WARNING ? 1 : 0);
		}

		// From then on, both processes continue the same session: the newest reference by its own time.
		const next = conversationOf(await chat(a, 'chat-two-tabs', 'And the risks?'));
		expect([fromA.session_id, fromB.session_id]).toContain(next.session_id);
		expect(next).toMatchObject({ turn: 2, new_session: false });
		expect(next.warning).toBeUndefined();
		const after = conversationOf(await chat(b, 'chat-two-tabs', 'Summarise that for the board'));
		expect(after).toMatchObject({ session_id: next.session_id, turn: 3, new_session: false });
		expect(sandbox.stats.sessionsCreated).toBe(2);
	});

	it('two follow-ups at once: LlamaCloud refuses the second while the first is answered (409); it fails, sent once, and the next continues', async () => {
		const [a, b] = processes;
		const started = conversationOf(await chat(a, 'chat-two-workers', 'What grew in Q3?'));
		const first = chat(a, 'chat-two-workers', 'And the risks?');
		await messagesReceived(2);
		const refused = await chat(b, 'chat-two-workers', 'And the outlook?');
		const answered = conversationOf(await first);

		expect(answered).toMatchObject({ session_id: started.session_id, turn: 2, new_session: false });
		expect(refused.error?.message).toBe('LlamaCloud error 409: A message is already being answered in this session');
		expect((refused.error as unknown as { httpCode?: string }).httpCode).toBe('409');
		const prompts = streamRequests(sandbox).map((request) => (request.body as IDataObject).prompt);
		expect(prompts).toEqual(['What grew in Q3?', 'And the risks?', 'And the outlook?']);

		const next = conversationOf(await chat(b, 'chat-two-workers', 'And the outlook?'));
		expect(next).toMatchObject({ session_id: started.session_id, turn: 3, new_session: false });
		expect(sandbox.stats.sessionsCreated).toBe(1);
	});
});
