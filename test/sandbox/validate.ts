// FastAPI/pydantic-shaped request validation. The messages mirror pydantic v2
// wording so clients can be tested against realistic 422 bodies.

export type Loc = Array<string | number>;

/** One item of FastAPI's 422 `detail` (pydantic v2's error, without `url`, as FastAPI sends it). */
export interface ValidationIssue {
	type: string;
	loc: Loc;
	msg: string;
	input?: unknown;
	ctx?: Record<string, unknown>;
}

/** The sandbox's page size when the request has none (the spec sets no default or bounds). */
export const DEFAULT_PAGE_SIZE = 50;
/** `SessionCreate.index_ids` maxItems [SPEC]. */
export const MAX_INDEXES = 10;
/** `ChatParams.prompt` maxLength [SPEC]. */
export const MAX_PROMPT_CHARS = 1000;

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Returns the canonical (lower-case, hyphenated) UUID, or records an issue. */
export function parseUuid(value: string, loc: Loc, issues: ValidationIssue[]): string | undefined {
	if (UUID_RE.test(value)) {
		const hex = value.replace(/-/g, '').toLowerCase();
		return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
	}
	const bad = [...value].findIndex((c) => !/[0-9a-fA-F-]/.test(c));
	const error =
		bad >= 0
			? `invalid character: expected an optional prefix of \`urn:uuid:\` followed by [0-9a-fA-F-], found \`${[...value][bad]}\` at ${bad + 1}`
			: `invalid length: expected length 32 for simple format, found ${value.replace(/-/g, '').length}`;
	issues.push({ type: 'uuid_parsing', loc, msg: `Input should be a valid UUID, ${error}`, input: value, ctx: { error } });
	return undefined;
}

export interface Paging {
	pageSize: number;
	offset: number;
}

export function encodePageToken(offset: number): string {
	return Buffer.from(`v1:${offset}`, 'utf8').toString('base64url');
}

/** A server-side cap on `page_size`, an explicit sandbox option: the spec sets none. */
export interface PageSizeLimit {
	max: number;
}

/**
 * page_size / page_token only. Any other key (notably `cursor`) is ignored, exactly like an
 * unknown query parameter in FastAPI. The spec types page_size as an integer with no bounds and
 * no default: without a `limit`, any integer is served (below 1: the default page size).
 */
export function parsePaging(q: Map<string, string>, issues: ValidationIssue[], limit?: PageSizeLimit): Paging {
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
			if (limit && n < 1) {
				issues.push({
					type: 'greater_than_equal',
					loc: ['query', 'page_size'],
					msg: 'Input should be greater than or equal to 1',
					input: ps,
					ctx: { ge: 1 },
				});
			} else if (limit && n > limit.max) {
				issues.push({
					type: 'less_than_equal',
					loc: ['query', 'page_size'],
					msg: `Input should be less than or equal to ${limit.max}`,
					input: ps,
					ctx: { le: limit.max },
				});
			} else if (n >= 1) {
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

/** Validates a list of index ids against `min`/`max` items; returns it or undefined after recording issues. */
function checkIndexIds(
	v: unknown,
	issues: ValidationIssue[],
	bounds: { min?: number; max?: number },
): string[] | undefined {
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
		}
	});
	if (bounds.max !== undefined && v.length > bounds.max) {
		issues.push({
			type: 'too_long',
			loc: ['body', 'index_ids'],
			msg: `List should have at most ${bounds.max} items after validation, not ${v.length}`,
			input: v,
			ctx: { field_type: 'List', max_length: bounds.max, actual_length: v.length },
		});
		ok = false;
	}
	if (bounds.min !== undefined && v.length < bounds.min) {
		issues.push({
			type: 'too_short',
			loc: ['body', 'index_ids'],
			msg: `List should have at least ${bounds.min} item${bounds.min === 1 ? '' : 's'} after validation, not ${v.length}`,
			input: v,
			ctx: { field_type: 'List', min_length: bounds.min, actual_length: v.length },
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

export const SHARE_LINK_ACCESS = ['read_only', 'query'] as const;

export interface CreateBody {
	/** As sent: `null` (or absent) is an unbound session; `[]` is stored as `[]`. */
	indexIds: string[] | null;
	/** Current revision only; null follows the deployment default. */
	sharedAccess: string | null;
}

/**
 * POST /api/v1/chat body (`SessionCreate`): every field optional; absent/empty body => unbound
 * session. `shared_access` is read only when the revision has it (FastAPI ignores unknown fields).
 */
export function validateCreateBody(
	body: ParsedBody,
	issues: ValidationIssue[],
	withSharedAccess: boolean,
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
		const ids = checkIndexIds(v.index_ids, issues, { max: MAX_INDEXES });
		if (ids) indexIds = [...ids];
	}
	let sharedAccess: string | null = null;
	if (withSharedAccess && v.shared_access !== undefined && v.shared_access !== null) {
		if ((SHARE_LINK_ACCESS as readonly unknown[]).includes(v.shared_access)) sharedAccess = v.shared_access as string;
		else
			issues.push({
				type: 'enum',
				loc: ['body', 'shared_access'],
				msg: "Input should be 'read_only' or 'query'",
				input: v.shared_access,
				ctx: { expected: "'read_only' or 'query'" },
			});
	}
	return { indexIds, sharedAccess };
}

export interface StreamBody {
	prompt: string;
	indexIds: string[];
	/** Current revision only. */
	requireAllIndexes?: boolean;
}

/**
 * POST .../messages/stream body (`ChatParams`): prompt (maxLength 1000) and index_ids (minItems 1)
 * are both required; `require_all_indexes` is read only when the revision has it.
 */
export function validateStreamBody(
	body: ParsedBody,
	issues: ValidationIssue[],
	withRequireAll: boolean,
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
		indexIds = checkIndexIds(v.index_ids, issues, { min: 1 });
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
			ctx: { max_length: MAX_PROMPT_CHARS },
		});
	} else {
		prompt = v.prompt;
	}
	let requireAllIndexes: boolean | undefined;
	if (withRequireAll && v.require_all_indexes !== undefined && v.require_all_indexes !== null) {
		if (typeof v.require_all_indexes === 'boolean') requireAllIndexes = v.require_all_indexes;
		else
			issues.push({
				type: 'bool_type',
				loc: ['body', 'require_all_indexes'],
				msg: 'Input should be a valid boolean',
				input: v.require_all_indexes,
			});
	}
	return prompt !== undefined && indexIds !== undefined ? { prompt, indexIds, requireAllIndexes } : undefined;
}
