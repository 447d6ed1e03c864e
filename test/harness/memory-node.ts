// A chat-memory sub-node for engine tests, built the way n8n's own memory nodes build theirs, from the
// same libraries: LangChain's BufferWindowMemory over a chat history, behind n8n's logging proxy, or a
// memory of n8n's AI node SDK handed over with its `supplyMemory` (which keeps no message metadata).
// n8n-core calls `supplyData` when the node under test asks for its `ai_memory` input. Kinds:
// - 'stored' (default), shaped like Redis and Postgres Chat Memory: the history names its session key
//   (`sessionId`) and keeps each message as JSON, through LangChain's own stored-message mapping;
// - 'simple', shaped like Simple Memory: LangChain's in-memory history, which names no key;
// - 'sdk': n8n's AI node SDK memory;
// - 'redis': n8n's Redis Chat Memory, built as n8n builds it: LangChain's RedisChatMessageHistory on a
//   node-redis client (the Redis URL parameter), under BufferWindowMemory; the client closes with the run.
// Histories live in this module, per kind and session key; `memoryHistories.clear()` empties them.

import { BufferWindowMemory } from '@langchain/classic/memory';
import { RedisChatMessageHistory } from '@langchain/redis';
import { createClient } from 'redis';
import { BaseListChatMessageHistory, InMemoryChatMessageHistory } from '@langchain/core/chat_history';
import { mapChatMessagesToStoredMessages, mapStoredMessagesToChatMessages, type BaseMessage } from '@langchain/core/messages';
import { BaseChatHistory, WindowedChatMemory, logWrapper, supplyMemory, type Message } from '@n8n/ai-utilities';
import {
	NodeConnectionTypes,
	type INodeType,
	type INodeTypeDescription,
	type ISupplyDataFunctions,
	type SupplyData,
} from 'n8n-workflow';

export const MEMORY_NODE_TYPE = 'test.chatMemory';

/** Redis clients of 'redis' memories, until closed. */
const redisClients = new Set<ReturnType<typeof createClient>>();

/** Closes what n8n did not close of the 'redis' memories' clients (before the test stops Redis). */
export async function closeRedisClients(): Promise<void> {
	for (const client of redisClients) if (client.isOpen) await client.quit();
	redisClients.clear();
}

/** @n8n/ai-utilities has its own copy of n8n-workflow: the same context, typed by that copy. */
type SdkContext = Parameters<typeof supplyMemory>[0];

/** A history that keeps each message as JSON text under its session key, as Redis and Postgres do. */
export class StoredHistory extends BaseListChatMessageHistory {
	lc_namespace = ['test', 'stored'];

	readonly rows: string[] = [];

	/** How often the history was read. */
	reads = 0;

	constructor(readonly sessionId: string) {
		super();
	}

	async getMessages(): Promise<BaseMessage[]> {
		this.reads++;
		return mapStoredMessagesToChatMessages(this.rows.map((row) => JSON.parse(row)));
	}

	async addMessage(message: BaseMessage): Promise<void> {
		this.rows.push(JSON.stringify(mapChatMessagesToStoredMessages([message])[0]));
	}

	async clear(): Promise<void> {
		this.rows.length = 0;
	}
}

/** A stored history that hands its messages over newest first, as a memory reading a sorted set backwards would. */
export class NewestFirstHistory extends StoredHistory {
	async getMessages(): Promise<BaseMessage[]> {
		return (await super.getMessages()).reverse();
	}
}

/** Messages a trimming history keeps: the last ones, as a capped Redis list (LTRIM) does. */
export const TRIMMED_HISTORY_KEEPS = 4;

/** A stored history that keeps only its last TRIMMED_HISTORY_KEEPS messages. */
export class TrimmedHistory extends StoredHistory {
	async addMessage(message: BaseMessage): Promise<void> {
		await super.addMessage(message);
		this.rows.splice(0, Math.max(0, this.rows.length - TRIMMED_HISTORY_KEEPS));
	}
}

type History = StoredHistory | InMemoryChatMessageHistory | SdkHistory;

/** Histories by kind and session key. */
export const memoryHistories = new Map<string, History>();

/** The history of a session key (created on first use), so that tests can add what other nodes would. */
export function historyOf(sessionKey: string, kind = 'stored'): History {
	const id = `${kind}\u0000${sessionKey}`;
	let history = memoryHistories.get(id);
	if (!history) {
		const stored = { newestFirst: NewestFirstHistory, trimmed: TrimmedHistory }[kind] ?? StoredHistory;
		history = kind === 'sdk' ? new SdkHistory() : kind === 'simple' ? new InMemoryChatMessageHistory() : new stored(sessionKey);
		memoryHistories.set(id, history);
	}
	return history;
}

class SdkHistory extends BaseChatHistory {
	readonly messages: Message[] = [];

	async getMessages(): Promise<Message[]> {
		return [...this.messages];
	}

	async addMessage(message: Message): Promise<void> {
		this.messages.push(message);
	}

	async clear(): Promise<void> {
		this.messages.length = 0;
	}
}

/** The stored messages of a session, as LangChain messages (LangChain-based kinds only). */
export async function storedMessages(sessionKey: string, kind = 'stored'): Promise<BaseMessage[]> {
	const history = historyOf(sessionKey, kind);
	return history instanceof SdkHistory ? [] : await history.getMessages();
}

export class TestChatMemory implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Chat Memory',
		name: 'chatMemory',
		group: ['transform'],
		version: 1,
		description: 'A chat memory for tests',
		defaults: { name: 'Chat Memory' },
		inputs: [],
		outputs: [NodeConnectionTypes.AiMemory],
		properties: [
			{ displayName: 'Session Key', name: 'sessionKey', type: 'string', default: '={{ $json.sessionId }}' },
			{ displayName: 'Context Window Length', name: 'contextWindowLength', type: 'number', default: 5 },
			{ displayName: 'Redis URL', name: 'redisUrl', type: 'string', default: '' },
			{
				displayName: 'Kind',
				name: 'kind',
				type: 'options',
				options: [
					{ name: 'Stored as JSON, Named by Its Session Key (Redis, Postgres Chat Memory)', value: 'stored' },
					{ name: 'Stored, Handed Over Newest First', value: 'newestFirst' },
					{ name: 'Stored, Keeping Only Its Last Messages', value: 'trimmed' },
					{ name: 'In Memory, Unnamed (Simple Memory)', value: 'simple' },
					{ name: 'Redis (Redis Chat Memory)', value: 'redis' },
					{ name: "n8n's AI Node SDK (Drops Message Metadata)", value: 'sdk' },
					{ name: 'Not a Chat Memory: No saveContext', value: 'noSaveContext' },
					{ name: 'Not a Chat Memory: No History', value: 'noHistory' },
					{ name: 'Not a Chat Memory: A History That Cannot Be Read', value: 'unreadableHistory' },
					{ name: 'A Memory That Never Answers a Read (a Store Out of Reach)', value: 'hangingRead' },
				],
				default: 'stored',
			},
		],
	};

	async supplyData(this: ISupplyDataFunctions, itemIndex: number): Promise<SupplyData> {
		const sessionKey = this.getNodeParameter('sessionKey', itemIndex) as string;
		const k = this.getNodeParameter('contextWindowLength', itemIndex) as number;
		const kind = this.getNodeParameter('kind', itemIndex) as string;
		// What a sub-node of another kind, or a broken one, might hand over instead of a chat memory.
		if (kind === 'noSaveContext') return { response: { chatHistory: new InMemoryChatMessageHistory() } };
		if (kind === 'noHistory') return { response: { chatHistory: null, saveContext: async () => {} } };
		if (kind === 'unreadableHistory') return { response: { chatHistory: { messages: [] }, saveContext: async () => {} } };
		if (kind === 'hangingRead') {
			return { response: { chatHistory: { sessionId: sessionKey, getMessages: async () => await new Promise<never>(() => {}) }, saveContext: async () => {} } };
		}
		if (kind === 'redis') {
			const client = createClient({ url: this.getNodeParameter('redisUrl', itemIndex) as string });
			client.on('error', () => {}); // a Redis stopped by the test ends its connections
			redisClients.add(client);
			await client.connect();
			const redisHistory = new RedisChatMessageHistory({ client, sessionId: sessionKey });
			const memory = new BufferWindowMemory({ memoryKey: 'chat_history', chatHistory: redisHistory, returnMessages: true, inputKey: 'input', outputKey: 'output', k });
			return { response: logWrapper(memory, this as unknown as SdkContext), closeFunction: async () => void (client.isOpen && (await client.quit())) };
		}
		const history = historyOf(sessionKey, kind);
		if (history instanceof SdkHistory) {
			return supplyMemory(this as unknown as SdkContext, new WindowedChatMemory(history, { windowSize: k })) as SupplyData;
		}
		const memory = new BufferWindowMemory({ memoryKey: 'chat_history', chatHistory: history, returnMessages: true, inputKey: 'input', outputKey: 'output', k });
		return { response: logWrapper(memory, this as unknown as SdkContext) };
	}
}
