// A chat-memory sub-node for engine tests, built the way n8n's own memory nodes build theirs, from the
// same libraries: LangChain's BufferWindowMemory over a chat history, behind n8n's logging proxy
// (as Simple, Redis and Postgres Chat Memory do), or a memory of n8n's AI node SDK handed over with its
// `supplyMemory` (which keeps no message metadata). n8n-core calls `supplyData` when the node under
// test asks for its `ai_memory` input. Histories live in this module, per session key, like Simple
// Memory's; `memoryHistories.clear()` empties them.

import { BufferWindowMemory } from '@langchain/classic/memory';
import { InMemoryChatMessageHistory } from '@langchain/core/chat_history';
import type { BaseMessage } from '@langchain/core/messages';
import { BaseChatHistory, WindowedChatMemory, logWrapper, supplyMemory, type Message } from '@n8n/ai-utilities';
import {
	NodeConnectionTypes,
	type INodeType,
	type INodeTypeDescription,
	type ISupplyDataFunctions,
	type SupplyData,
} from 'n8n-workflow';

export const MEMORY_NODE_TYPE = 'test.chatMemory';

/** @n8n/ai-utilities has its own copy of n8n-workflow: the same context, typed by that copy. */
type SdkContext = Parameters<typeof supplyMemory>[0];

/** Histories by kind and session key; a Redis or Postgres history names its key as `sessionId`. */
export const memoryHistories = new Map<string, InMemoryChatMessageHistory | SdkHistory>();

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
export async function storedMessages(sessionKey: string): Promise<BaseMessage[]> {
	const history = memoryHistories.get(`langchain\u0000${sessionKey}`);
	return history instanceof InMemoryChatMessageHistory ? await history.getMessages() : [];
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
			{
				displayName: 'Kind',
				name: 'kind',
				type: 'options',
				options: [
					{ name: 'LangChain BufferWindowMemory (Simple, Redis, Postgres Chat Memory)', value: 'langchain' },
					{ name: "n8n's AI Node SDK (drops message metadata)", value: 'sdk' },
				],
				default: 'langchain',
			},
		],
	};

	async supplyData(this: ISupplyDataFunctions, itemIndex: number): Promise<SupplyData> {
		const sessionKey = this.getNodeParameter('sessionKey', itemIndex) as string;
		const k = this.getNodeParameter('contextWindowLength', itemIndex) as number;
		const kind = this.getNodeParameter('kind', itemIndex) as string;
		const id = `${kind}\u0000${sessionKey}`;
		if (kind === 'sdk') {
			const history = (memoryHistories.get(id) as SdkHistory | undefined) ?? new SdkHistory();
			memoryHistories.set(id, history);
			return supplyMemory(this as unknown as SdkContext, new WindowedChatMemory(history, { windowSize: k })) as SupplyData;
		}
		const history = (memoryHistories.get(id) as InMemoryChatMessageHistory | undefined) ?? new InMemoryChatMessageHistory();
		memoryHistories.set(id, history);
		Object.assign(history, { sessionId: sessionKey });
		const memory = new BufferWindowMemory({ memoryKey: 'chat_history', chatHistory: history, returnMessages: true, inputKey: 'input', outputKey: 'output', k });
		return { response: logWrapper(memory, this as unknown as SdkContext) };
	}
}
