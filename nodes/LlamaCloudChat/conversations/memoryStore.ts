import { NodeOperationError, type IDataObject, type IExecuteFunctions } from 'n8n-workflow';

import { cancelSignalOf, cancelledError, whenAborted } from '../helpers/cancel';
import { llamaCloudCredentials } from '../helpers/credentials';
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

function refTokenOf(message: StoredMessage | null | undefined): unknown {
	const metadata = message?.additional_kwargs?.[METADATA_KEY] as IDataObject | undefined;
	return metadata?.ref;
}

/**
 * References that do not open, examined at most per read of a history. After an API-key rotation
 * every old reference fails to open (one failed decryption each); past this many the scan stops and
 * the conversation starts a new session, instead of examining a long history on every first turn.
 * References that open are all examined: the newest is found by its own time, not its position.
 */
export const MAX_UNOPENED_REFERENCES = 20;

/** What the answers of a history say about the conversation's sessions. */
interface HistoryRefs {
	/** The newest reference this node can open, by its own time (`usedAt`); on a tie, the later in the history. */
	ref?: SessionRef;
	/** Whether any answer carried a reference (opening or not). */
	anyRef: boolean;
	/** Whether the history holds answers at all (this node's or any other's). */
	anyAnswer: boolean;
	/** The references that opened, by their sealed text. */
	opened: Map<string, SessionRef>;
}

/**
 * The references in a history's answers (the whole history, not the memory's window), read from the
 * newest position back. Memories may reorder or trim messages: where a reference stands says nothing,
 * its own time does.
 */
function historyRefs(messages: unknown[], binding: RefBinding, apiKey: string): HistoryRefs {
	const found: HistoryRefs = { anyRef: false, anyAnswer: false, opened: new Map() };
	let unopened = 0;
	for (let index = messages.length - 1; index >= 0 && unopened < MAX_UNOPENED_REFERENCES; index--) {
		const message = messages[index] as StoredMessage | null;
		if (!message || !isAiMessage(message)) continue;
		found.anyAnswer = true;
		const token = refTokenOf(message);
		if (token === undefined) continue;
		found.anyRef = true;
		const ref = openSessionRef(token, binding, apiKey);
		if (!ref) {
			unopened++;
			continue;
		}
		found.opened.set(token as string, ref);
		if (!found.ref || ref.usedAt > found.ref.usedAt) found.ref = ref;
	}
	return found;
}

/** Whether the history holds the message carrying exactly this (fresh, random) sealed reference, wherever the memory put it. */
function holdsRef(messages: unknown[], token: string): boolean {
	return messages.some((message) => refTokenOf(message as StoredMessage | null) === token);
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

export const CONCURRENT_TURN_WARNING =
	"Another message of this conversation was answered at the same time, in another LlamaCloud session (e.g. a second tab, or another n8n worker). The conversation continues in the session of the most recent answer; that session's model does not know the other message.";

export const NO_REFERENCE_WARNING =
	"This conversation's earlier answers carry no LlamaCloud session reference (the memory trimmed or dropped them, or other nodes wrote those answers), so a new session was started, which does not know them.";

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
	const credentials = await llamaCloudCredentials(context);
	const apiKey = String(credentials.apiKey ?? '').trim();
	const conversationKey = conversationKeyOf(memory);
	// Simple Memory names no key: its histories live in this process, per workflow and session key.
	const sealedFor = typeof memory.chatHistory.sessionId === 'string' ? conversationKey : '';
	const binding: RefBinding = { workflowId: String(context.getWorkflow().id), nodeId: String(node.id), indexes: scope.indexes, conversation: sealedFor };
	const run = async () => {
		// A memory that does not answer (a Redis or Postgres out of reach) must not hold a cancelled execution.
		const cancel = whenAborted(cancelSignalOf(context));
		let read: unknown[] | true;
		try {
			read = await Promise.race([memory.chatHistory.getMessages(), cancel.aborted]);
		} catch (error) {
			throw new NodeOperationError(node, `Memory: the conversation could not be read (${(error as Error).message})`, {
				itemIndex: scope.itemIndex,
				description: 'Check the memory sub-node and its credential (e.g. that Redis or Postgres is reachable). The question was not sent.',
			});
		} finally {
			cancel.stop();
		}
		if (read === true) throw cancelledError(context, 'while the conversation was read from the memory', scope.itemIndex);
		const messages = read;
		const history = Array.isArray(messages) ? messages : [];
		const { ref, anyRef, anyAnswer, opened } = historyRefs(history, binding, apiKey);
		const usable = ref && !(scope.forgetAfterMs > 0 && Date.now() - ref.usedAt > scope.forgetAfterMs) ? ref : undefined;
		// Not silently: a conversation whose answers carry references that do not open loses its history.
		const unopened = anyRef && !ref ? UNOPENED_REFERENCE_WARNING : undefined;
		if (unopened) context.logger.warn(unopened, { node: node.name });
		// Answers that name no session at all: the memory trimmed ours away, dropped their metadata, or other nodes wrote them.
		const unreferenced = anyAnswer && !anyRef ? NO_REFERENCE_WARNING : undefined;
		const warn = (warning: string) => {
			context.logger.warn(warning, { node: node.name });
			return warning;
		};
		return await task({
			store: 'memory',
			session: usable ? { id: usable.session, turns: usable.turns } : undefined,
			async started() {
				// The memory keeps turns, not sessions: the reference is saved with the first answer.
			},
			async answered(session, turns, prompt, shown) {
				const token = sealSessionRef({ session, turns, usedAt: Date.now() }, binding, apiKey);
				let saved: unknown[];
				try {
					await memory.saveContext({ input: prompt }, { output: answerMessage(shown, token) });
					// Once a reference came back from this memory, it evidently keeps metadata, and this turn
					// continued the conversation's session. A new session is checked: read the memory again.
					if (usable) return undefined;
					saved = await memory.chatHistory.getMessages();
				} catch (error) {
					return warn(`The answer could not be saved to the connected memory (${(error as Error).message}; the Memory node's output has the details): the next message will start a new LlamaCloud session.`);
				}
				const after = Array.isArray(saved) ? saved : [];
				if (!holdsRef(after, token)) return warn(METADATA_DROPPED_WARNING);
				// Another process (or tab) answered a message of this conversation since it was read here: two
				// sessions now. The next message continues the newest reference by its own time, in every process.
				const landed = [...historyRefs(after, binding, apiKey).opened.keys()].some((other) => other !== token && !opened.has(other));
				if (landed) return warn(CONCURRENT_TURN_WARNING);
				return unopened ?? (unreferenced && warn(unreferenced));
			},
			async forget() {
				// Nothing to delete: the next answer's reference replaces the gone session's.
			},
		});
	};
	// Messages of one conversation in this process run one after another.
	return await conversationQueues.serialized(context, scope.itemIndex, `memory\u0000${binding.workflowId}\u0000${binding.nodeId}\u0000${conversationKey}`, run);
}
