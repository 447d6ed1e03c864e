import { NodeOperationError, type INode } from 'n8n-workflow';

export const MAX_INDEXES_PER_SESSION = 10;
export const MAX_PROMPT_LENGTH = 1000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Index and session IDs are opaque (docs use `idx-abc123`, real ones are UUIDs). Reject only what
// can never be an ID: whitespace, separators, path characters, control characters.
const OPAQUE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:~-]{0,127}$/;

function describe(value: unknown): string {
	if (value === null) return 'null';
	if (Array.isArray(value)) return 'a list';
	if (typeof value === 'string') return `"${value.length > 40 ? value.slice(0, 40) + '…' : value}"`;
	return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** What a mapped parameter says, where its value usually comes from, per field it reads. */
const USUAL_SOURCE: Record<string, string> = {
	chatInput: "the message n8n's Chat Trigger sends",
	session_id: 'the session that Session → Create, Message → Send and Message → Ask output',
};

/** What to do when a field a parameter reads is missing, by parameter. */
const MAPPED_FIX: Record<string, { usual?: string; other: string }> = {
	Prompt: {
		usual: "Connect a Chat Trigger (or use the editor's chat), or set 'Prompt' to the question or to the field that holds it, e.g. {{ $json.question }}.",
		other: 'Map the field that holds the question, or type the question.',
	},
	Session: {
		usual: 'Put one of them before this node, or pick the session from the list.',
		other: "Map the field that holds the session ID, e.g. {{ $json.session_id }}, or pick the session from the list.",
	},
	Indexes: { other: 'Map the field that holds the index IDs, or pick the indexes from the list.' },
};

/** `{{ $json.field }}` or `{{ $json["field"] }}`, the whole expression. */
const JSON_FIELD = /^\{\{\s*\$json(?:\.([A-Za-z_$][\w$]*)|\[\s*["']([^"']+)["']\s*\])\s*\}\}$/;

/** A parameter given as an expression, and the input item's field it reads when it reads just one. */
interface Mapped {
	expression: string;
	field?: string;
}

function mappedExpression(node: INode, parameter: string): Mapped | undefined {
	const raw: unknown = node.parameters[parameter];
	const value = raw && typeof raw === 'object' && '__rl' in raw ? (raw as { value?: unknown }).value : raw;
	if (typeof value !== 'string' || !value.startsWith('=')) return undefined;
	const expression = value.slice(1).trim();
	const match = JSON_FIELD.exec(expression);
	return { expression, field: match?.[1] ?? match?.[2] };
}

/**
 * The error for an expression that gave nothing for an item, worded the way n8n's own nodes do:
 * which field of the input item is missing and where it usually comes from (the default Prompt
 * reads the Chat Trigger's `chatInput`, and a Manual Trigger sends none).
 */
function missingError(node: INode, label: keyof typeof MAPPED_FIX, mapped: Mapped, itemIndex: number): NodeOperationError {
	const { expression, field } = mapped;
	const fix = MAPPED_FIX[label];
	const prefix = label === 'Indexes' ? 'Indexes:' : `${label} is required:`;
	if (field === undefined) {
		return new NodeOperationError(node, `${prefix} its expression ${expression} gave nothing for this item`, {
			itemIndex,
			description: `Check the expression against the input item. ${fix.other}`,
		});
	}
	const usual = USUAL_SOURCE[field];
	return new NodeOperationError(node, `${prefix} the input item has no '${field}' field`, {
		itemIndex,
		description: usual && fix.usual ? `'${label}' is ${expression}, ${usual}. ${fix.usual}` : `'${label}' is ${expression}. ${fix.other}`,
	});
}

/** An optional UUID from a resource locator: '' means "not set". */
export function optionalUuid(node: INode, field: string, value: unknown, itemIndex: number): string | undefined {
	if (value === undefined || value === null || value === '') return undefined;
	if (typeof value !== 'string' || !UUID.test(value.trim())) {
		throw new NodeOperationError(node, `${field} must be a UUID, got ${describe(value)}`, {
			itemIndex,
			description: `Pick the ${field.toLowerCase()} from the list, paste its ID (like 2f0e1a2b-0000-4000-8000-000000000001), or leave it empty to use the API key's default.`,
		});
	}
	return value.trim();
}

/** A required opaque ID such as a session ID (`field` names the parameter the user sees). */
export function requiredId(node: INode, field: 'Session', value: unknown, itemIndex: number, parameter = 'sessionId'): string {
	const text = typeof value === 'number' ? String(value) : value;
	const mapped = value === undefined ? mappedExpression(node, parameter) : undefined;
	if (mapped) throw missingError(node, field, mapped, itemIndex);
	if (typeof text !== 'string' || text.trim() === '') {
		throw new NodeOperationError(node, `${field} is required, got ${describe(value)}`, {
			itemIndex,
			description: `Choose the ${field.toLowerCase()} from the list or map it from a previous node, e.g. {{ $json.session_id }}.`,
		});
	}
	if (!OPAQUE_ID.test(text.trim())) {
		throw new NodeOperationError(node, `${field} ${describe(value)} is not a valid ID`, {
			itemIndex,
			description: 'IDs contain only letters, digits, "-", "_", ".", ":" or "~" and no spaces.',
		});
	}
	return text.trim();
}

/**
 * Index IDs from the multi-select, an expression array, or a comma/newline separated string.
 * Duplicates are dropped (order kept) so that a mapped list does not trip the 10-index limit.
 */
export function parseIndexIds(node: INode, value: unknown, itemIndex: number): string[] {
	const fail = (message: string, description: string) =>
		new NodeOperationError(node, message, { itemIndex, description });
	// A field the expression reads that the item lacks is a mistake, not "no indexes" (which would,
	// e.g., create an unbound session); `{{ undefined }}`, null, '' and [] still mean none.
	const mapped = value === undefined ? mappedExpression(node, 'indexIds') : undefined;
	if (mapped?.field !== undefined) throw missingError(node, 'Indexes', mapped, itemIndex);
	const pieces: unknown[] = Array.isArray(value) ? value.flat(2) : value === undefined || value === null ? [] : [value];
	const ids: string[] = [];
	for (const piece of pieces) {
		if (typeof piece !== 'string') {
			throw fail(
				`Indexes: expected index IDs as text, got ${describe(piece)}`,
				'Give an array of IDs such as ["idx-abc123"] or a comma-separated string such as "idx-abc123, idx-def456".',
			);
		}
		for (const part of piece.split(/[,\n]/)) {
			const id = part.trim();
			if (id === '') continue;
			if (!OPAQUE_ID.test(id)) {
				throw fail(
					`Indexes: ${describe(id)} is not a valid index ID`,
					'Index IDs look like idx-abc123 or a UUID. Pick them from the list or check the mapped value.',
				);
			}
			if (!ids.includes(id)) ids.push(id);
		}
	}
	if (ids.length > MAX_INDEXES_PER_SESSION) {
		throw fail(
			`Indexes: a session can use at most ${MAX_INDEXES_PER_SESSION} indexes, got ${ids.length}`,
			`Remove ${ids.length - MAX_INDEXES_PER_SESSION} of them from 'Indexes', or split the work over several sessions.`,
		);
	}
	return ids;
}

/**
 * Marks an error as the prompt's own: whoever wrote the prompt (a chat user, or a model calling the
 * node as a tool) can fix it by rephrasing, which helpers/audience.ts tells them.
 */
function promptRejected(error: NodeOperationError): NodeOperationError {
	error.context.promptRejected = true;
	return error;
}

export function validatePrompt(node: INode, raw: unknown, itemIndex: number): string {
	// A number mapped from a previous node is a fine question ("42"); objects and lists are not.
	const value = typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : raw;
	const mapped = value === undefined ? mappedExpression(node, 'prompt') : undefined;
	if (mapped) throw missingError(node, 'Prompt', mapped, itemIndex);
	if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
		throw promptRejected(
			new NodeOperationError(node, `Prompt is required, got ${describe(value)}`, {
				itemIndex,
				description: 'Type the question, or map it from a previous node, e.g. {{ $json.chatInput }}.',
			}),
		);
	}
	if (typeof value !== 'string') {
		throw new NodeOperationError(node, `Prompt must be text, got ${describe(value)}`, {
			itemIndex,
			description: 'Type the question, or map it from a previous node, e.g. {{ $json.chatInput }}.',
		});
	}
	// LlamaCloud counts characters (code points), not UTF-16 units: an emoji is one character.
	const length = [...value].length;
	if (length > MAX_PROMPT_LENGTH) {
		throw promptRejected(
			new NodeOperationError(node, `Prompt is ${length} characters long; LlamaCloud accepts at most ${MAX_PROMPT_LENGTH}`, {
				itemIndex,
				description: 'Shorten the prompt, or split the question over several messages in the same session.',
			}),
		);
	}
	return value;
}
