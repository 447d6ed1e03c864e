// Holds every exchange with the sandbox to LlamaCloud's published contract (test/contract/spec.ts):
// the request the node sends (operation, query parameters, JSON body) and the response the sandbox
// sends (status code, body, and a stream's events one by one). Schemas are checked by Ajv's JSON
// Schema 2020-12 validator with ajv-formats; only what the spec cannot say in JSON Schema is code
// here: which operation a path is, query strings being strings, and the SSE framing of the guide.

import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

import type { RecordedRequest } from '../sandbox/faults';
import type {
	Deliberate,
	ExchangeObserver,
	ObservedResponse,
	ObservedSseMessage,
} from '../sandbox/observe';
import { specFor, type Revision } from './spec';

export interface Violation {
	/** e.g. `POST /api/v1/chat (create_session_api_v1_chat_post)` */
	operation: string;
	/** The part that broke it, e.g. `request body.index_ids`, `response status`, `stream event 3`. */
	field: string;
	message: string;
	revision: Revision;
}

export function formatViolation(v: Violation): string {
	return `LlamaCloud contract (${v.revision}): ${v.operation}: ${v.field}: ${v.message}`;
}

type Json = Record<string, unknown>;

interface Parameter {
	name: string;
	in: string;
	required?: boolean;
	schema: Json;
}

interface Operation {
	method: string;
	template: string;
	pattern: RegExp;
	id: string;
	parameters: Parameter[];
	requestBody?: { required?: boolean; content: Record<string, { schema: Json }> };
	responses: Record<string, { content?: Record<string, { schema: Json }> }>;
	/** JSON pointer (in the spec document) of the operation. */
	pointer: string;
}

/** FastAPI's HTTPException body: what every status the spec does not list must look like (reference §4.2). */
const ERROR_DETAIL_SCHEMA = {
	type: 'object',
	properties: { detail: { type: 'string', minLength: 1 } },
	required: ['detail'],
	additionalProperties: false,
};

/** Statuses FastAPI itself sends with a `{"detail": "..."}` body, beside those the spec lists. */
const HTTP_EXCEPTION_STATUSES = new Set([400, 401, 403, 404, 405, 409]);

const STREAM_OPERATION = 'stream_messages_api_v1_chat__session_id__messages_stream_post';

/** The pointer of one chat event (the `events` item union) inside the spec. */
const CHAT_EVENT_POINTER = '#/components/schemas/SessionDetail/properties/events/items';

const escapePointer = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');

class RevisionSchemas {
	readonly ajv: Ajv2020;
	readonly operations: Operation[] = [];
	/** ChatEvent kind → its schema's pointer (the union's discriminator mapping). */
	readonly eventKinds: Record<string, string>;
	private readonly validators = new Map<string, ValidateFunction>();

	constructor(readonly revision: Revision) {
		const spec = specFor(revision);
		this.ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: true });
		addFormats(this.ajv);
		// OpenAPI's own keywords are annotations for JSON Schema validation.
		this.ajv.addVocabulary(['discriminator', 'example', 'xml', 'externalDocs']);
		this.ajv.addSchema({ ...spec, $id: 'spec' });
		const schemasJson = (spec.components as Json).schemas as Record<string, Json>;
		const events = (schemasJson.SessionDetail.properties as Record<string, Json>).events.items as Json;
		this.eventKinds = (events.discriminator as { mapping: Record<string, string> }).mapping;
		for (const [template, item] of Object.entries(spec.paths as Record<string, Json>)) {
			for (const [method, value] of Object.entries(item)) {
				const op = value as Json;
				const source = template
					.split('/')
					.map((part) => (/^\{.+\}$/.test(part) ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
					.join('/');
				this.operations.push({
					method: method.toUpperCase(),
					template,
					pattern: new RegExp(`^${source}$`),
					id: String(op.operationId),
					parameters: (op.parameters as Parameter[]) ?? [],
					requestBody: op.requestBody as Operation['requestBody'],
					responses: op.responses as Operation['responses'],
					pointer: `#/paths/${escapePointer(template)}/${method}`,
				});
			}
		}
	}

	/** A validator for a schema inside the spec document (by pointer) or for a standalone schema. */
	validator(key: string, schema?: Json): ValidateFunction {
		let validate = this.validators.get(key);
		if (!validate) {
			validate = this.ajv.compile(schema ?? { $ref: `spec${key}` });
			this.validators.set(key, validate);
		}
		return validate;
	}

	find(method: string, path: string): Operation | undefined {
		return this.operations.find((op) => op.method === method && op.pattern.test(path));
	}
}

const revisions = new Map<Revision, RevisionSchemas>();

function schemasFor(revision: Revision): RevisionSchemas {
	let schemas = revisions.get(revision);
	if (!schemas) {
		schemas = new RevisionSchemas(revision);
		revisions.set(revision, schemas);
	}
	return schemas;
}

/** `/index_ids/0` → `index_ids[0]`; Ajv's own wording for the rest. */
function describeErrors(prefix: string, errors: ErrorObject[] | null | undefined): Array<[string, string]> {
	const out: Array<[string, string]> = [];
	const seen = new Set<string>();
	// A nullable field (`anyOf: [X, null]`) that fails X also fails "must be null": say only what X says.
	const all = errors ?? [];
	const meaningful = all.filter(
		(e) => !(e.keyword === 'type' && (e.params as { type?: string }).type === 'null' && all.some((o) => o !== e && o.instancePath === e.instancePath && o.keyword !== 'anyOf')),
	);
	for (const error of meaningful) {
		// anyOf/oneOf summaries repeat what the branch errors said.
		if (error.keyword === 'anyOf' || error.keyword === 'oneOf' || error.keyword === 'if') continue;
		let field = prefix;
		for (const part of error.instancePath.split('/').slice(1)) {
			const name = part.replace(/~1/g, '/').replace(/~0/g, '~');
			field += /^\d+$/.test(name) ? `[${name}]` : `.${name}`;
		}
		let message = error.message ?? error.keyword;
		if (error.keyword === 'additionalProperties') {
			const extra = (error.params as { additionalProperty: string }).additionalProperty;
			field += `.${extra}`;
			message = 'is not in the contract (no such field)';
		} else if (error.keyword === 'required') {
			const missing = (error.params as { missingProperty: string }).missingProperty;
			field += `.${missing}`;
			message = 'is required but missing';
		}
		const key = `${field}: ${message}`;
		if (!seen.has(key)) {
			seen.add(key);
			out.push([field, message]);
		}
	}
	return out.length > 0 ? out : [[prefix, 'does not match the schema']];
}

/** Query strings carry text: turn `"12"` into 12 where the parameter's schema allows an integer. */
function coerceQueryValue(value: string, schema: Json): unknown {
	const types = new Set<unknown>([schema.type, ...((schema.anyOf as Json[] | undefined) ?? []).map((s) => s.type)]);
	if ((types.has('integer') || types.has('number')) && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
	if (types.has('boolean') && (value === 'true' || value === 'false')) return value === 'true';
	return value;
}

interface StreamState {
	events: number;
	stopped: boolean;
}

export interface CheckerOptions {
	/** Which revision the sandbox speaks right now. */
	revision: () => Revision;
	/**
	 * Check requests too (the node's traffic). Off for the sandbox's own tests, which send malformed
	 * requests on purpose to see the sandbox reject them; their responses are still checked.
	 */
	requests: boolean;
}

export class ContractChecker implements ExchangeObserver {
	readonly violations: Violation[] = [];
	/** Exchanges checked, per operation id (so a test can prove the checker saw the traffic). */
	readonly checked = new Map<string, number>();
	private readonly streams = new WeakMap<RecordedRequest, StreamState>();

	constructor(private readonly options: CheckerOptions) {}

	take(): Violation[] {
		return this.violations.splice(0, this.violations.length);
	}

	request(request: RecordedRequest): void {
		if (!this.options.requests) return;
		const schemas = schemasFor(this.options.revision());
		const op = schemas.find(request.method, request.path);
		if (!op) {
			this.report(`${request.method} ${request.path}`, 'request', 'is not an operation of the published API');
			return;
		}
		this.checked.set(op.id, (this.checked.get(op.id) ?? 0) + 1);
		this.checkQuery(schemas, op, request);
		this.checkBody(schemas, op, request);
	}

	response(request: RecordedRequest, response: ObservedResponse, deliberate: Deliberate): void {
		// Off-contract on purpose, or cut short by the client: nothing complete to hold to the spec.
		if (deliberate || !response.complete) return;
		const schemas = schemasFor(this.options.revision());
		const op = schemas.find(request.method, request.path);
		// Outside the spec's subset (e.g. /api/v2/projects, a trailing-slash redirect): the request
		// check already reported it when the node sent it.
		if (!op) return;
		const name = this.name(op);
		const status = response.status;
		const documented = op.responses[String(status)];
		const contentType = String(response.headers['content-type'] ?? '');
		if (op.id === STREAM_OPERATION && status === 200) {
			if (!contentType.startsWith('text/event-stream'))
				this.report(name, 'response content-type', `is "${contentType}", the guide documents text/event-stream`);
			const state = this.streams.get(request);
			if (!state?.stopped) this.report(name, 'response stream', 'ended without a stop event');
			return;
		}
		if (!documented) {
			if (!HTTP_EXCEPTION_STATUSES.has(status)) {
				const listed = Object.keys(op.responses).join(', ');
				this.report(name, 'response status', `${status} is not a documented response (documented: ${listed})`);
				return;
			}
			this.checkJson(schemas, name, 'response body', response.body, contentType, `error-detail`, ERROR_DETAIL_SCHEMA);
			return;
		}
		const content = documented.content?.['application/json'];
		if (!content) {
			if (response.body !== '') this.report(name, 'response body', `must be empty for ${status}, got ${response.body.length} bytes`);
			return;
		}
		this.checkJson(
			schemas,
			name,
			'response body',
			response.body,
			contentType,
			`${op.pointer}/responses/${status}/content/application~1json/schema`,
		);
	}

	sseMessage(request: RecordedRequest, message: ObservedSseMessage, deliberate: Deliberate): void {
		if (deliberate) return;
		const schemas = schemasFor(this.options.revision());
		const op = schemas.find(request.method, request.path);
		if (!op) return;
		const name = this.name(op);
		let state = this.streams.get(request);
		if (!state) {
			state = { events: 0, stopped: false };
			this.streams.set(request, state);
		}
		const field = `stream event ${++state.events}`;
		if (state.stopped) this.report(name, field, 'arrives after the stop event');
		let event: unknown;
		try {
			event = JSON.parse(message.data);
		} catch {
			this.report(name, `${field} data`, `is not JSON: ${message.data.slice(0, 80)}`);
			return;
		}
		// The union's discriminator: an event of a known kind is checked against that kind's schema.
		const kind = event && typeof event === 'object' ? (event as Json).type : undefined;
		const mapped = typeof kind === 'string' ? schemas.eventKinds[kind] : undefined;
		if (typeof kind === 'string' && !mapped) {
			this.report(name, `${field}.type`, `"${kind}" is not a kind of ChatEvent`);
			return;
		}
		const validate = schemas.validator(mapped ?? CHAT_EVENT_POINTER);
		if (!validate(event)) {
			for (const [where, text] of describeErrors(`${field}`, validate.errors)) this.report(name, where, text);
			return;
		}
		const type = String((event as Json).type);
		// The guide: `event: delta` for *_delta events, `event: message` for complete ones; kind in `type`.
		const category = type.endsWith('_delta') ? 'delta' : 'message';
		if (message.event !== category)
			this.report(name, `${field} (${type})`, `SSE event field is ${message.event === undefined ? 'missing' : `"${message.event}"`}, the guide documents "${category}"`);
		if (type === 'stop') state.stopped = true;
	}

	private name(op: Operation): string {
		return `${op.method} ${op.template} (${op.id})`;
	}

	private report(operation: string, field: string, message: string): void {
		this.violations.push({ operation, field, message, revision: this.options.revision() });
	}

	private checkQuery(schemas: RevisionSchemas, op: Operation, request: RecordedRequest): void {
		const name = this.name(op);
		const declared = new Map(op.parameters.filter((p) => p.in === 'query').map((p) => [p.name, p]));
		for (const [key, value] of Object.entries(request.query)) {
			const parameter = declared.get(key);
			if (!parameter) {
				this.report(name, `query ${key}`, 'is not a parameter of this operation');
				continue;
			}
			if (Array.isArray(value)) {
				this.report(name, `query ${key}`, `is sent ${value.length} times`);
				continue;
			}
			const key2 = `${op.pointer}/query/${key}`;
			const validate = schemas.validator(key2, parameter.schema);
			if (!validate(coerceQueryValue(value, parameter.schema))) {
				for (const [where, text] of describeErrors(`query ${key}`, validate.errors))
					this.report(name, where, `${text} (sent "${value}")`);
			}
		}
		for (const parameter of declared.values()) {
			if (parameter.required && !(parameter.name in request.query))
				this.report(name, `query ${parameter.name}`, 'is required but missing');
		}
	}

	private checkBody(schemas: RevisionSchemas, op: Operation, request: RecordedRequest): void {
		const name = this.name(op);
		if (!op.requestBody) {
			if (request.rawBody !== '') this.report(name, 'request body', 'is sent, but the operation takes none');
			return;
		}
		if (request.rawBody === '') {
			if (op.requestBody.required) this.report(name, 'request body', 'is required but missing');
			return;
		}
		this.checkJson(
			schemas,
			name,
			'request body',
			request.rawBody,
			String(request.headers['content-type'] ?? ''),
			`${op.pointer}/requestBody/content/application~1json/schema`,
		);
	}

	private checkJson(
		schemas: RevisionSchemas,
		name: string,
		part: string,
		raw: string,
		contentType: string,
		key: string,
		schema?: Json,
	): void {
		if (!contentType.startsWith('application/json')) {
			this.report(name, `${part} content-type`, `is "${contentType}", expected application/json`);
			return;
		}
		let value: unknown;
		try {
			value = JSON.parse(raw);
		} catch {
			this.report(name, part, `is not JSON: ${raw.slice(0, 80)}`);
			return;
		}
		const validate = schemas.validator(key, schema);
		if (!validate(value)) {
			for (const [where, text] of describeErrors(part, validate.errors))
				this.report(name, where, text);
		}
	}
}
