import { NodeOperationError, type IDataObject, type IExecuteFunctions } from 'n8n-workflow';

import { conversationQueues } from './queue';
import { openSessionRef, sealSessionRef, type RefBinding, type SessionRef } from './sessionRef';
import type { Conversation, ConversationScope } from './types';

/** Where the node keeps its sealed session reference in a saved answer's metadata (`additional_kwargs`). */
export const METADATA_KEY = 'llamacloud_chat';

/**
 * The parts of an n8n memory sub-node this store uses: LangChain's chat memory as n8n hands it over
 * (behind n8n's logging proxy). Used by its methods only: the package depends on no LangChain code.
 */
export interface ChatMemory {
	chatHistory: {
		getMessages(): Promise<unknown[]>;
		/** Redis, Postgres and other persisted histories name their session key. */
		sessionId?: unknown;
	};
	saveContext(input: IDataObject, output: IDataObject): Promise<void>;
}

export function isChatMemory(value: unknown): value is ChatMemory {
	const memory = value as ChatMemory | undefined;
	return (
		typeof memory?.saveContext === 'function' &&
		typeof memory.chatHistory === 'object' &&
		memory.chatHistory !== null &&
		typeof memory.chatHistory.getMessages === 'function'
	);
}

interface StoredMessage {
	content?: unknown;
	additional_kwargs?: IDataObject;
	type?: unknown;
	_getType?: () => unknown;
	getType?: () => unknown;
}

function isAiMessage(message: StoredMessage): boolean {
	const type = typeof message.getType === 'function' ? message.getType() : typeof message._getType === 'function' ? message._getType() : message.type;
	return type === 'ai';
}

function refTokenOf(message: StoredMessage): unknown {
	const metadata = message.additional_kwargs?.[METADATA_KEY] as IDataObject | undefined;
	return metadata?.ref;
}

/**
 * The newest saved answer whose reference this node can open (the whole history, not the memory's
 * window), and whether any answer carried a reference at all.
 */
function latestRef(messages: unknown[], binding: RefBinding, apiKey: string): { ref?: SessionRef; anyRef: boolean } {
	let anyRef = false;
	for (let index = messages.length - 1; index >= 0; index--) {
		const message = messages[index] as StoredMessage | null;
		if (!message || !isAiMessage(message)) continue;
		const token = refTokenOf(message);
		if (token === undefined) continue;
		anyRef = true;
		const ref = openSessionRef(token, binding, apiKey);
		if (ref) return { ref, anyRef };
	}
	return { anyRef };
}

/** Histories without a session key of their own (n8n's Simple Memory), told apart by identity. */
const unnamedHistories = new WeakMap<object, number>();
let lastUnnamed = 0;

/** What identifies the conversation: the memory's session key, else (Simple Memory) its history in this process. */
function conversationKeyOf(memory: ChatMemory): string {
	const named = memory.chatHistory.sessionId;
	if (typeof named === 'string' && named !== '') return `key:${named}`;
	let id = unnamedHistories.get(memory.chatHistory);
	if (id === undefined) {
		id = ++lastUnnamed;
		unnamedHistories.set(memory.chatHistory, id);
	}
	return `history:${id}`;
}

/**
 * The answer as LangChain's `saveContext` takes it: an AI message's fields (`content` and the
 * metadata). Memories built on n8n's AI node SDK save `String(output)`: for them it reads as the
 * answer's text, and the metadata is what they drop.
 */
function answerMessage(shown: string, token: string): IDataObject {
	const message: IDataObject = { content: shown, additional_kwargs: { [METADATA_KEY]: { ref: token } } };
	Object.defineProperty(message, 'toString', { value: () => shown }); // not enumerable: no field of the message
	return message;
}

export const UNOPENED_REFERENCE_WARNING =
	"This conversation's earlier answers name a LlamaCloud session this node cannot continue: the credential's API key, the node or its Indexes changed, or the answers were copied from another conversation. A new session was started.";

export const METADATA_DROPPED_WARNING =
	'The connected memory does not keep message metadata, so the next message cannot continue this LlamaCloud session and will start a new one. Connect a Redis, Postgres or MongoDB Chat Memory, or Simple Memory.';

/**
 * Opens the conversation kept in a connected memory sub-node for the duration of `task`. The memory's
 * own session key is the conversation: its history holds each turn as the user's message and the
 * answer, and the answer's metadata holds the sealed session reference.
 */
export async function withMemoryConversation<T>(
	context: IExecuteFunctions,
	memory: ChatMemory,
	scope: ConversationScope,
	task: (conversation: Conversation) => Promise<T>,
): Promise<T> {
	const node = context.getNode();
	const credentials = await context.getCredentials('llamaCloudApi', scope.itemIndex);
	const apiKey = String(credentials.apiKey ?? '').trim();
	const conversationKey = conversationKeyOf(memory);
	// Simple Memory names no key: its histories live in this process, per workflow and session key.
	const sealedFor = typeof memory.chatHistory.sessionId === 'string' ? conversationKey : '';
	const binding: RefBinding = { workflowId: String(context.getWorkflow().id), nodeId: String(node.id), indexes: scope.indexes, conversation: sealedFor };
	const run = async () => {
		let messages: unknown[];
		try {
			messages = await memory.chatHistory.getMessages();
		} catch (error) {
			throw new NodeOperationError(node, `Memory: the conversation could not be read (${(error as Error).message})`, {
				itemIndex: scope.itemIndex,
				description: 'Check the memory sub-node and its credential (e.g. that Redis or Postgres is reachable). The question was not sent.',
			});
		}
		const { ref, anyRef } = latestRef(Array.isArray(messages) ? messages : [], binding, apiKey);
		const usable = ref && !(scope.forgetAfterMs > 0 && Date.now() - ref.usedAt > scope.forgetAfterMs) ? ref : undefined;
		// Not silently: a conversation whose answers carry references that do not open loses its history.
		const unopened = anyRef && !ref ? UNOPENED_REFERENCE_WARNING : undefined;
		if (unopened) context.logger.warn(unopened, { node: node.name });
		return await task({
			store: 'memory',
			session: usable ? { id: usable.session, turns: usable.turns } : undefined,
			async started() {
				// The memory keeps turns, not sessions: the reference is saved with the first answer.
			},
			async answered(session, turns, prompt, shown) {
				const token = sealSessionRef({ session, turns, usedAt: Date.now() }, binding, apiKey);
				try {
					await memory.saveContext({ input: prompt }, { output: answerMessage(shown, token) });
					// Once a reference came back from this memory, it evidently keeps metadata; else check the one just saved.
					if (usable) return undefined;
					const saved = await memory.chatHistory.getMessages();
					if (refTokenOf(saved[saved.length - 1] as StoredMessage) === token) return unopened;
					context.logger.warn(METADATA_DROPPED_WARNING, { node: node.name });
					return METADATA_DROPPED_WARNING;
				} catch (error) {
					const warning = `The answer could not be saved to the connected memory (${(error as Error).message}; the Memory node's output has the details): the next message will start a new LlamaCloud session.`;
					context.logger.warn(warning, { node: node.name });
					return warning;
				}
			},
			async forget() {
				// Nothing to delete: the next answer's reference replaces the gone session's.
			},
		});
	};
	// Messages of one conversation in this process run one after another.
	return await conversationQueues.serialized(context, scope.itemIndex, `memory\u0000${binding.workflowId}\u0000${binding.nodeId}\u0000${conversationKey}`, run);
}
