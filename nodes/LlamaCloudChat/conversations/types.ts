/** The LlamaCloud session that continues a conversation. */
export interface KnownSession {
	id: string;
	/** Turns answered in it so far. */
	turns: number;
}

/** Where a conversation's session is kept: a connected memory sub-node, or the node's own store. */
export type StoreKind = 'memory' | 'node';

/**
 * One conversation, open for one message. Ask asks it which session continues the conversation and
 * tells it what happened; where that is kept is the store's business.
 */
export interface Conversation {
	readonly store: StoreKind;
	/** The Conversation ID (the node's own store only; with a memory, the memory's session key is the conversation). */
	readonly id?: string;
	/** The session that continues this conversation, if one is known and may continue (same indexes, not forgotten). */
	readonly session?: KnownSession;
	/** A new session was created for this conversation, before its first turn is sent. */
	started(sessionId: string): Promise<void>;
	/**
	 * The turn was answered: `prompt` is the user's message, `shown` the answer as the chat showed it.
	 * Never throws (the answer is already here); returns a warning for the output when something was not kept.
	 */
	answered(sessionId: string, turns: number, prompt: string, shown: string): Promise<string | undefined>;
	/** LlamaCloud no longer has the session. */
	forget(): Promise<void>;
}

/** What identifies a conversation's session, besides the conversation itself. */
export interface ConversationScope {
	itemIndex: number;
	/** The sorted index set, joined with commas: a session is bound to its indexes. */
	indexes: string;
	/** Idle longer than this, a conversation starts a new session; 0: never by time. */
	forgetAfterMs: number;
}
