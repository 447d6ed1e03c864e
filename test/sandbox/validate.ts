// FastAPI/pydantic-shaped request validation. The messages mirror pydantic v2
// wording so clients can be tested against realistic 422 bodies.

export type Loc = Array<string | number>;

export interface ValidationIssue {
	type: string;
	loc: Loc;
	msg: string;
	input?: unknown;
}

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_INDEXES = 10;
export const MAX_PROMPT_CHARS = 1000;

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Returns the canonical (lower-case, hyphenated) UUID, or records an issue. */
export function parseUuid(value: string, loc: Loc, issues: ValidationIssue[]): string | undefined {
	if (UUID_RE.test(value)) {
		const hex = value.replace(/-/g, '').toLowerCase();
		return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
	}
	const bad = [...value].findIndex((c) => !/[0-9a-fA-F-]/.test(c));
	const msg =
		bad >= 0
			? `Input should be a valid UUID, invalid character: expected an optional prefix of \`urn:uuid:\` followed by [0-9a-fA-F-], found \`${[...value][bad]}\` at ${bad + 1}`
			: `Input should be a valid UUID, invalid length: expected length 32 for simple format, found ${value.replace(/-/g, '').length}`;
	issues.push({ type: 'uuid_parsing', loc, msg, input: value });
	return undefined;
}

export interface Paging {
	pageSize: number;
	offset: number;
}

export function encodePageToken(offset: number): string {
	return Buffer.from(`v1:${offset}`, 'utf8').toString('base64url');
}

/**
 * page_size / page_token only. Any other key (notably `cursor`) is ignored,
 * exactly like an unknown query parameter in FastAPI.
 */
export function parsePaging(q: Map<string, string>, issues: ValidationIssue[]): Paging {
	let pageSize = DEFAULT_PAGE_SIZE;
	let offset = 0;
	const ps = q.get('page_size');
	if (ps !== undefined) {
		if (!/^\s*[+-]?\d+\s*$/.test(ps)) {
			issues.push({
				type: 'int_parsing',
				loc: ['query', 'page_size'],
				msg: 'Input should be a valid integer, unable to parse string as an integer',
				input: ps,
			});
		} else {
			const n = parseInt(ps, 10);
			if (n < 1) {
				issues.push({
					type: 'greater_than_equal',
					loc: ['query', 'page_size'],
					msg: 'Input should be greater than or equal to 1',
					input: ps,
				});
			} else if (n > MAX_PAGE_SIZE) {
				issues.push({
					type: 'less_than_equal',
					loc: ['query', 'page_size'],
					msg: `Input should be less than or equal to ${MAX_PAGE_SIZE}`,
					input: ps,
				});
			} else {
				pageSize = n;
			}
		}
	}
	const tok = q.get('page_token');
	// An empty token is treated as "first page" (what a FastAPI Optional[str] handler would do with "").
	if (tok !== undefined && tok !== '') {
		const m = /^v1:(\d{1,9})$/.exec(Buffer.from(tok, 'base64url').toString('utf8'));
		if (!m || encodePageToken(Number(m[1])) !== tok) {
			issues.push({
				type: 'value_error',
				loc: ['query', 'page_token'],
				msg: 'Value error, invalid page token',
				input: tok,
			});
		} else {
			offset = Number(m[1]);
		}
	}
	return { pageSize, offset };
}

/** Cursor page. `nullOnLast` decides between omitting next_page_token and sending null. */
export function paginate<T>(
	items: T[],
	p: Paging,
	nullOnLast = false,
): { items: T[]; next_page_token?: string | null } {
	const page = items.slice(p.offset, p.offset + p.pageSize);
	const end = p.offset + page.length;
	const out: { items: T[]; next_page_token?: string | null } = { items: page };
	if (end < items.length) out.next_page_token = encodePageToken(end);
	else if (nullOnLast) out.next_page_token = null;
	return out;
}

export type ParsedBody =
	| { kind: 'absent' }
	| { kind: 'json'; value: unknown }
	| { kind: 'invalid'; issue: ValidationIssue };

export function parseJsonBody(raw: string): ParsedBody {
	if (raw.trim() === '') return { kind: 'absent' };
	try {
		const value: unknown = JSON.parse(raw);
		// FastAPI treats a JSON null body like a missing body.
		return value === null ? { kind: 'absent' } : { kind: 'json', value };
	} catch (e) {
		const pos = /position (\d+)/.exec(String((e as Error).message));
		return {
			kind: 'invalid',
			issue: {
				type: 'json_invalid',
				loc: ['body', pos ? Number(pos[1]) : 0],
				msg: 'JSON decode error',
				input: {},
			},
		};
	}
}

function isObject(v: unknown): v is Record<string, unknown> {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates a list of index ids; returns it (possibly empty) or undefined after recording issues. */
function checkIndexIds(v: unknown, issues: ValidationIssue[]): string[] | undefined {
	if (!Array.isArray(v)) {
		issues.push({
			type: 'list_type',
			loc: ['body', 'index_ids'],
			msg: 'Input should be a valid list',
			input: v,
		});
		return undefined;
	}
	let ok = true;
	v.forEach((item, i) => {
		if (typeof item !== 'string') {
			issues.push({
				type: 'string_type',
				loc: ['body', 'index_ids', i],
				msg: 'Input should be a valid string',
				input: item,
			});
			ok = false;
		} else if (item.length === 0) {
			issues.push({
				type: 'string_too_short',
				loc: ['body', 'index_ids', i],
				msg: 'String should have at least 1 character',
				input: item,
			});
			ok = false;
		}
	});
	if (v.length > MAX_INDEXES) {
		issues.push({
			type: 'too_long',
			loc: ['body', 'index_ids'],
			msg: `List should have at most ${MAX_INDEXES} items after validation, not ${v.length} (a session can be bound to up to ${MAX_INDEXES} indexes)`,
			input: v,
		});
		ok = false;
	}
	return ok ? (v as string[]) : undefined;
}

function notAnObject(v: unknown): ValidationIssue {
	return {
		type: 'model_attributes_type',
		loc: ['body'],
		msg: 'Input should be a valid dictionary or object to extract fields from',
		input: v,
	};
}

export interface CreateBody {
	indexIds: string[] | null;
	sharedAccess: string;
}

/** POST /api/v1/chat body: every field optional; absent/empty body => unbound session. */
export function validateCreateBody(
	body: ParsedBody,
	issues: ValidationIssue[],
): CreateBody | undefined {
	if (body.kind === 'invalid') {
		issues.push(body.issue);
		return undefined;
	}
	const v = body.kind === 'absent' ? {} : body.value;
	if (!isObject(v)) {
		issues.push(notAnObject(v));
		return undefined;
	}
	let indexIds: string[] | null = null;
	if (v.index_ids !== undefined && v.index_ids !== null) {
		const ids = checkIndexIds(v.index_ids, issues);
		// An empty list binds nothing, so it is stored as an unbound session.
		if (ids) indexIds = ids.length ? [...ids] : null;
	}
	let sharedAccess = 'read_only';
	if (v.shared_access !== undefined && v.shared_access !== null) {
		if (v.shared_access === 'read_only' || v.shared_access === 'query')
			sharedAccess = v.shared_access;
		else
			issues.push({
				type: 'literal_error',
				loc: ['body', 'shared_access'],
				msg: "Input should be 'read_only' or 'query'",
				input: v.shared_access,
			});
	}
	return { indexIds, sharedAccess };
}

export interface StreamBody {
	prompt: string;
	indexIds: string[];
}

/** POST .../messages/stream body: prompt and index_ids are both required. */
export function validateStreamBody(
	body: ParsedBody,
	issues: ValidationIssue[],
): StreamBody | undefined {
	if (body.kind === 'invalid') {
		issues.push(body.issue);
		return undefined;
	}
	if (body.kind === 'absent') {
		issues.push({ type: 'missing', loc: ['body'], msg: 'Field required', input: null });
		return undefined;
	}
	const v = body.value;
	if (!isObject(v)) {
		issues.push(notAnObject(v));
		return undefined;
	}
	let indexIds: string[] | undefined;
	if (v.index_ids === undefined) {
		issues.push({ type: 'missing', loc: ['body', 'index_ids'], msg: 'Field required', input: v });
	} else {
		indexIds = checkIndexIds(v.index_ids, issues);
	}
	let prompt: string | undefined;
	if (v.prompt === undefined) {
		issues.push({ type: 'missing', loc: ['body', 'prompt'], msg: 'Field required', input: v });
	} else if (typeof v.prompt !== 'string') {
		issues.push({
			type: 'string_type',
			loc: ['body', 'prompt'],
			msg: 'Input should be a valid string',
			input: v.prompt,
		});
	} else if ([...v.prompt].length > MAX_PROMPT_CHARS) {
		// pydantic counts code points, not UTF-16 units.
		issues.push({
			type: 'string_too_long',
			loc: ['body', 'prompt'],
			msg: `String should have at most ${MAX_PROMPT_CHARS} characters`,
			input: v.prompt,
		});
	} else {
		prompt = v.prompt;
	}
	if (v.require_all_indexes !== undefined && typeof v.require_all_indexes !== 'boolean') {
		issues.push({
			type: 'bool_type',
			loc: ['body', 'require_all_indexes'],
			msg: 'Input should be a valid boolean',
			input: v.require_all_indexes,
		});
	}
	return prompt !== undefined && indexIds !== undefined ? { prompt, indexIds } : undefined;
}
