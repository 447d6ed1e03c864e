/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports -- Node.js test/dev code, never run inside n8n */
// LlamaCloud sandbox: a local stand-in for the LlamaCloud chat-session API
// (see the API reference (shared/llamacloud-chat-api.md) §10). Node `http` only.

import http, { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { planTurn } from './agent';
import { FaultList, type FaultAction, type FaultRule, type RecordedRequest } from './faults';
import { observeResponse, type Deliberate, type ExchangeObserver } from './observe';
import {
	DEFAULT_API_KEY,
	FIXTURE_IDS,
	INDEXES,
	type ProjectSeed,
	type SandboxFixtures,
} from './fixtures';
import { frames, BodyWriter, PING, type Framing } from './sse';
import { Store, type ChatEvent, type IndexRecord, type SessionRecord } from './store';
import {
	paginate,
	parseJsonBody,
	parsePaging,
	parseUuid,
	validateCreateBody,
	validateStreamBody,
	type PageSizeLimit,
	type ValidationIssue,
} from './validate';

export type { FaultAction, FaultRule, RecordedRequest } from './faults';
export type { SandboxFixtures } from './fixtures';

export type Latency = number | { min: number; max: number };

/**
 * The API revision the sandbox speaks. '2026-08' is LlamaCloud's published OpenAPI spec
 * (test/contract/llamacloud-chat-openapi.json); 'current' adds the newer revision's fields
 * (reference §8): `shared_access`, `require_all_indexes`, `skipped_index_ids`.
 */
export type Revision = '2026-08' | 'current';

function defaultRevision(): Revision {
	const env = process.env.SANDBOX_REVISION;
	if (env === undefined || env === '') return '2026-08';
	if (env === '2026-08' || env === 'current') return env;
	throw new Error(`SANDBOX_REVISION must be '2026-08' or 'current', got '${env}'`);
}

export interface SandboxOptions {
	apiKey?: string;
	port?: number;
	host?: string;
	latencyMs?: Latency;
	organizationsEndpoint?: boolean;
	seed?: boolean;
	/** Default: `SANDBOX_REVISION` from the environment, else '2026-08'. */
	revision?: Revision;
	/**
	 * Who sends the requests: the node ('node', default: requests are held to the contract too) or
	 * the test itself ('tests': the sandbox's own tests send malformed requests on purpose).
	 */
	requestsFrom?: 'node' | 'tests';
	/** Explicit option, off by default: 422 for `page_size` below 1 or above `max` (the spec sets no bounds). */
	pageSizeLimit?: PageSizeLimit;
	/**
	 * A message whose `index_ids` differ from a bound session's own set: 'reject' (default) answers
	 * 400; 'use-session-set' runs the turn on the session's set. The spec does not say; either way
	 * the set of a bound session never changes.
	 */
	boundSetMismatch?: 'reject' | 'use-session-set';
}

let observerFactory: ((sandbox: Sandbox, options: SandboxOptions) => ExchangeObserver) | undefined;

/**
 * Every sandbox started from now on reports its exchanges to an observer made by `factory`
 * (the contract checker, installed by the jest setup). `undefined` stops that.
 */
export function setExchangeObserverFactory(
	factory: ((sandbox: Sandbox, options: SandboxOptions) => ExchangeObserver) | undefined,
): void {
	observerFactory = factory;
}

export interface StreamBehaviour {
	mode?: 'normal' | 'in-band-error' | 'truncate-before-stop' | 'drop-mid-stream';
	framing?: Framing;
	chunkSize?: number;
	chunkDelayMs?: number;
	answer?: string;
	answerBytes?: number;
	errorMessage?: string;
	events?: object[];
	/** Answers name their turn and the session's previous question (agent.ts contextPreamble). */
	contextAnswers?: boolean;
	/** Pause after each `text_delta` event, so that an answer visibly streams. */
	deltaDelayMs?: number;
	/** Keeps the connection open (silent) this long after the stop event, as a proxy holding keep-alive might. */
	holdOpenAfterStopMs?: number;
	/**
	 * The turn stalls after this many chat events: no further event, the connection kept open until
	 * the client closes it (or the sandbox does). `keepAliveEveryMs` fills the silence.
	 */
	stallAfterEvents?: number;
	/** While a turn is stalled, a `: ping` comment every this many ms, as sse-starlette (every 15 s by default) and proxies send. */
	keepAliveEveryMs?: number;
	/** Only the message with this prompt stalls (default: every message). */
	stallPrompt?: string;
	/**
	 * A `: ping` comment every this many milliseconds for as long as the stream is open (stalled or
	 * not), between frames, as sse-starlette (every 15 s by default) and many proxies send: bytes, but no event.
	 */
	pingEveryMs?: number;
}

/** When a turn's frames were written (performance.now() of this process), for streaming checks. */
export interface TurnTiming {
	sessionId: string;
	prompt: string;
	/** The request arrived (before any latency or fault delay). */
	startedAt: number;
	/** Each `text_delta`, when its frame was handed to the socket. */
	deltas: Array<{ content: string; writtenAt: number }>;
	/** The response ended (after the `stop` event), or the client went away. */
	finishedAt?: number;
}

export interface SandboxStats {
	sessionsCreated: number;
	turnsStarted: number;
	turnsCompleted: number;
	sessionsDeleted: number;
}

export interface Sandbox {
	url: string;
	port: number;
	apiKey: string;
	/** The API revision it speaks now (see SandboxOptions.revision). */
	readonly revision: Revision;
	setRevision(revision: Revision): void;
	/**
	 * Makes an index unqueryable (or queryable again): turns over it skip it, and in the current
	 * revision their `stop` lists it in `skipped_index_ids` (or, with `require_all_indexes`, fails).
	 */
	setIndexQueryable(indexId: string, queryable: boolean): void;
	requests: RecordedRequest[];
	/** Timings of the chat turns streamed since the last reset(), in start order. */
	turnTimings: TurnTiming[];
	clearRequests(): void;
	stats: SandboxStats;
	injectFault(rule: FaultRule): void;
	clearFaults(): void;
	setStreamBehaviour(b: StreamBehaviour): void;
	setLatency(ms: Latency): void;
	reset(): void;
	fixtures: SandboxFixtures;
	addIndexes(
		projectId: string,
		count: number,
		namePrefix?: string,
	): Array<{ id: string; name: string }>;
	/** Stored sessions for list tests; `lastUpdatedAt` backdates them (e.g. for cleanup workflows). */
	addSessions(projectId: string, count: number, options?: { lastUpdatedAt?: Date }): string[];
	// Loosely typed on purpose: tests poke at arbitrary stored fields.
	// eslint-disable-next-line @typescript-eslint/no-explicit-any
	getSession(sessionId: string): any | undefined;
	/** Whether the connection that carried this request is still open (e.g. to see that a client aborted it). */
	connectionOpen(request: RecordedRequest): boolean;
	close(): Promise<void>;
}

const DEFAULT_ERROR_MESSAGE = 'Agent run failed: the model provider returned an error';

interface Ctx {
	req: IncomingMessage;
	res: ServerResponse;
	rec: RecordedRequest;
	/** Marks the response as outside the contract on purpose (the test asked for it). */
	offContract(reason: string): void;
	/** Last value of each query parameter (FastAPI reads scalars that way). */
	q: Map<string, string>;
	params: Record<string, string>;
	startedAt: number;
}

type Handler = (ctx: Ctx) => void | Promise<void>;

interface Route {
	method: string;
	parts: string[];
	handler: Handler;
}

interface ScopeParams {
	orgId?: string;
	projectId?: string;
}

function sendJson(
	res: ServerResponse,
	status: number,
	body: unknown,
	headers: Record<string, string> = {},
): void {
	const text = JSON.stringify(body);
	res.writeHead(status, {
		'Content-Type': 'application/json',
		'Content-Length': String(Buffer.byteLength(text)),
		...headers,
	});
	res.end(text);
}

function sendError(
	res: ServerResponse,
	status: number,
	detail: string,
	headers: Record<string, string> = {},
): void {
	sendJson(res, status, { detail }, headers);
}

function send422(res: ServerResponse, issues: ValidationIssue[]): void {
	sendJson(res, 422, { detail: issues });
}

function makeTitle(prompt: string): string | null {
	const t = prompt.trim().replace(/\s+/g, ' ');
	if (!t) return null;
	const chars = [...t];
	return chars.length > 60 ? chars.slice(0, 60).join('').trimEnd() + '...' : t;
}

function num(v: unknown, fallback: number): number {
	return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

function numOrNull(v: unknown): number | null {
	return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function sameSet(a: string[], b: string[]): boolean {
	const sa = new Set(a);
	const sb = new Set(b);
	return sa.size === sb.size && [...sa].every((x) => sb.has(x));
}

/** The `stop` of a turn that `require_all_indexes` failed (current revision). */
function failedForSkippedIndexes(skipped: string[]): ChatEvent {
	return {
		type: 'stop',
		error: `Index ${skipped.join(', ')} cannot be queried, and require_all_indexes is set`,
		is_error: true,
		usage: { duration_ms: 0, total_input_tokens: 0, total_output_tokens: 0, turns: 1 },
		skipped_index_ids: skipped,
	};
}

function pickLatency(l: Latency | undefined): number {
	if (l === undefined) return 0;
	if (typeof l === 'number') return Math.max(0, l);
	const lo = Math.max(0, Math.min(l.min, l.max));
	const hi = Math.max(l.min, l.max);
	return lo + Math.random() * (hi - lo);
}

/** Keeps the events up to (and including) the first text_delta, then ends with an error stop. */
function toInBandError(
	events: ChatEvent[],
	message: string,
	generatedStops: WeakSet<object>,
): ChatEvent[] {
	const firstDelta = events.findIndex((e) => e.type === 'text_delta');
	const firstStop = events.findIndex((e) => e.type === 'stop');
	const end = firstDelta >= 0 ? firstDelta + 1 : firstStop >= 0 ? firstStop : events.length;
	const kept = events.slice(0, end).filter((e) => e.type !== 'stop');
	const prevStop = events.find((e) => e.type === 'stop');
	const prevUsage = (prevStop?.usage ?? {}) as Record<string, unknown>;
	const stop: ChatEvent = {
		type: 'stop',
		error: message,
		is_error: true,
		usage: {
			duration_ms: 0,
			total_input_tokens: numOrNull(prevUsage.total_input_tokens),
			total_output_tokens: kept.filter((e) => e.type === 'text_delta').length,
			turns: num(prevUsage.turns, 1),
		},
	};
	generatedStops.add(stop);
	return [...kept, stop];
}

class SandboxServer implements Sandbox {
	url = '';
	port = 0;
	readonly apiKey: string;
	readonly requests: RecordedRequest[] = [];
	readonly turnTimings: TurnTiming[] = [];
	readonly stats: SandboxStats = {
		sessionsCreated: 0,
		turnsStarted: 0,
		turnsCompleted: 0,
		sessionsDeleted: 0,
	};
	readonly fixtures: SandboxFixtures;

	private readonly store: Store;
	private readonly faults = new FaultList();
	private behaviour: StreamBehaviour = {};
	private latency: Latency | undefined;
	private readonly server: http.Server;
	private readonly sockets = new Set<Socket>();
	private readonly timers = new Map<NodeJS.Timeout, () => void>();
	/** The behaviour a `stream` fault gave one request. */
	private readonly streamFaults = new WeakMap<RecordedRequest, StreamBehaviour>();
	private readonly routes: Route[];
	private closed = false;
	private readonly socketOf = new WeakMap<RecordedRequest, Socket>();
	private closing: Promise<void> | undefined;
	private currentRevision: Revision;
	private readonly unqueryable = new Set<string>();
	/** Sessions with a message being answered right now: a second one at once gets 409 (see README). */
	private readonly answering = new Set<string>();
	private readonly observer: ExchangeObserver | undefined;

	constructor(private readonly options: SandboxOptions) {
		this.apiKey = options.apiKey ?? DEFAULT_API_KEY;
		this.currentRevision = options.revision ?? defaultRevision();
		if (this.currentRevision !== '2026-08' && this.currentRevision !== 'current')
			throw new Error(`revision must be '2026-08' or 'current', got '${String(this.currentRevision)}'`);
		this.latency = options.latencyMs;
		const seed = options.seed ?? true;
		this.store = new Store(seed);
		this.fixtures = {
			...FIXTURE_IDS,
			indexIds: seed
				? INDEXES.filter((i) => i.project_id === FIXTURE_IDS.defaultProjectId).map((i) => i.id)
				: [],
			secondProjectIndexIds: seed
				? INDEXES.filter((i) => i.project_id === FIXTURE_IDS.secondProjectId).map((i) => i.id)
				: [],
		};
		this.routes = this.buildRoutes(options.organizationsEndpoint ?? true);
		this.server = http.createServer((req, res) => this.onRequest(req, res));
		this.server.on('connection', (s: Socket) => {
			this.sockets.add(s);
			s.on('close', () => this.sockets.delete(s));
		});
		// A client that drops mid-request must not crash the process.
		this.server.on('clientError', (_err, socket) => socket.destroy());
		this.observer = observerFactory?.(this, options);
	}

	get revision(): Revision {
		return this.currentRevision;
	}

	setRevision(revision: Revision): void {
		this.currentRevision = revision;
	}

	setIndexQueryable(indexId: string, queryable: boolean): void {
		if (!this.store.indexes.has(indexId)) throw new Error(`Unknown index ${indexId}`);
		if (queryable) this.unqueryable.delete(indexId);
		else this.unqueryable.add(indexId);
	}

	/** A session as this revision shows it. */
	private summary(s: SessionRecord, full = false): Record<string, unknown> {
		const out = full ? Store.full(s) : Store.summary(s);
		if (this.currentRevision === 'current') out.shared_access = s.shared_access;
		return out;
	}

	async listen(): Promise<void> {
		const host = this.options.host ?? '127.0.0.1';
		await new Promise<void>((resolve, reject) => {
			this.server.once('error', reject);
			this.server.listen(this.options.port ?? 0, host, () => {
				this.server.off('error', reject);
				resolve();
			});
		});
		this.port = (this.server.address() as AddressInfo).port;
		this.url = `http://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
	}

	// ---- public control surface -------------------------------------------------

	clearRequests(): void {
		this.requests.length = 0; // in place, so held references stay valid
	}

	injectFault(rule: FaultRule): void {
		this.faults.add(rule);
	}

	clearFaults(): void {
		this.faults.clear();
	}

	setStreamBehaviour(b: StreamBehaviour): void {
		this.behaviour = { ...b };
	}

	setLatency(ms: Latency): void {
		this.latency = ms;
	}

	reset(): void {
		this.store.load();
		this.clearRequests();
		this.turnTimings.length = 0;
		this.faults.clear();
		this.behaviour = {};
		this.latency = this.options.latencyMs;
		this.currentRevision = this.options.revision ?? defaultRevision();
		this.unqueryable.clear();
		this.answering.clear();
		Object.assign(this.stats, {
			sessionsCreated: 0,
			turnsStarted: 0,
			turnsCompleted: 0,
			sessionsDeleted: 0,
		});
	}

	addIndexes(
		projectId: string,
		count: number,
		namePrefix?: string,
	): Array<{ id: string; name: string }> {
		return this.store.addIndexes(projectId, count, namePrefix);
	}

	addSessions(projectId: string, count: number, options: { lastUpdatedAt?: Date } = {}): string[] {
		if (!this.store.projects.has(projectId)) throw new Error(`Unknown project ${projectId}`);
		const ids: string[] = [];
		for (let i = 0; i < count; i++) {
			const session = this.store.createSession(projectId, null);
			if (options.lastUpdatedAt) this.store.backdate(session, options.lastUpdatedAt, i);
			ids.push(session.session_id);
		}
		return ids;
	}

	connectionOpen(request: RecordedRequest): boolean {
		const socket = this.socketOf.get(request);
		return socket !== undefined && !socket.destroyed;
	}

	getSession(sessionId: string): Record<string, unknown> | undefined {
		const s = this.store.sessions.get(sessionId);
		if (!s) return undefined;
		// As this revision's API shows it, plus internals.
		return structuredClone({
			...this.summary(s, true),
			project_id: s.project_id,
			index_set_locked: s.locked,
		});
	}

	close(): Promise<void> {
		if (this.closing) return this.closing;
		this.closed = true;
		// Wake every pending sleep (latency/delay/slow streams) so handlers can bail out.
		for (const [t, wake] of this.timers) {
			clearTimeout(t);
			wake();
		}
		this.timers.clear();
		this.closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
		this.server.closeAllConnections();
		for (const s of this.sockets) s.destroy();
		return this.closing;
	}

	// ---- plumbing ---------------------------------------------------------------

	private sleep = (ms: number): Promise<void> => {
		if (this.closed || !(ms > 0)) return Promise.resolve();
		return new Promise<void>((resolve) => {
			const t = setTimeout(() => {
				this.timers.delete(t);
				resolve();
			}, ms);
			this.timers.set(t, resolve);
		});
	};

	private onRequest(req: IncomingMessage, res: ServerResponse): void {
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('error', () => undefined); // client went away; nothing to answer
		req.on('end', () => {
			this.handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((err: unknown) => {
				if (!res.headersSent)
					sendError(res, 500, `Sandbox internal error: ${(err as Error)?.message ?? String(err)}`);
				else res.destroy();
			});
		});
	}

	private record(
		req: IncomingMessage,
		rawBody: string,
	): { rec: RecordedRequest; q: Map<string, string> } {
		const url = req.url ?? '/';
		// Split by hand: new URL() would treat a leading '//' as a host.
		const qi = url.indexOf('?');
		const path = qi >= 0 ? url.slice(0, qi) : url;
		const rawQuery = qi >= 0 ? url.slice(qi + 1) : '';
		const query: Record<string, string | string[]> = {};
		const q = new Map<string, string>();
		for (const [k, v] of new URLSearchParams(rawQuery)) {
			const cur = query[k];
			query[k] = cur === undefined ? v : Array.isArray(cur) ? [...cur, v] : [cur, v];
			q.set(k, v);
		}
		let body: unknown;
		if (rawBody !== '') {
			try {
				body = JSON.parse(rawBody);
			} catch {
				body = rawBody;
			}
		}
		const rec: RecordedRequest = {
			method: (req.method ?? 'GET').toUpperCase(),
			path,
			query,
			rawQuery,
			headers: { ...req.headers },
			body,
			rawBody,
		};
		this.requests.push(rec);
		this.socketOf.set(rec, req.socket);
		return { rec, q };
	}

	private async handle(req: IncomingMessage, res: ServerResponse, rawBody: string): Promise<void> {
		const startedAt = performance.now();
		const { rec, q } = this.record(req, rawBody);
		let deliberate: Deliberate;
		if (this.observer) {
			this.observer.request(rec);
			observeResponse(this.observer, rec, res, () => deliberate);
		}
		if (this.closed) return;

		const fault = this.faults.take(rec);
		if (fault && fault.type !== 'delay') deliberate = `injected fault (${fault.type})`;
		await this.sleep(pickLatency(this.latency));
		if (this.closed || res.destroyed) return;
		if (fault?.type === 'stream') this.streamFaults.set(rec, fault.behaviour);
		else if (fault && (await this.applyFault(fault, req, res))) return;
		if (this.closed || res.destroyed) return;

		const segs = rec.path.split('/');
		const matched = this.match(rec.method, segs);
		if (matched === 'method') {
			const allow = this.routes.filter((r) => this.matchParts(r.parts, segs)).map((r) => r.method);
			return sendError(res, 405, 'Method Not Allowed', { Allow: allow.join(', ') });
		}
		if (!matched) {
			// FastAPI's redirect_slashes: '/api/v1/chat/' -> 307 '/api/v1/chat'.
			if (
				rec.path.length > 1 &&
				rec.path.endsWith('/') &&
				this.match(rec.method, rec.path.slice(0, -1).split('/'))
			) {
				res.writeHead(307, {
					Location: rec.path.slice(0, -1) + (rec.rawQuery ? `?${rec.rawQuery}` : ''),
					'Content-Length': '0',
				});
				res.end();
				return;
			}
			return sendError(res, 404, 'Not Found');
		}
		// Auth runs only for routes that exist (an unknown path is a plain 404, as in FastAPI).
		const authError = this.authenticate(req);
		if (authError) return sendError(res, 401, authError, { 'WWW-Authenticate': 'Bearer' });
		const offContract = (reason: string): void => {
			deliberate = reason;
		};
		await matched.route.handler({ req, res, rec, q, params: matched.params, startedAt, offContract });
	}

	private authenticate(req: IncomingMessage): string | undefined {
		const h = req.headers.authorization;
		if (!h) return 'Not authenticated';
		const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(h);
		if (!m || m[1].toLowerCase() !== 'bearer') return 'Not authenticated';
		return m[2] === this.apiKey ? undefined : 'Invalid authentication token';
	}

	private async applyFault(
		action: FaultAction,
		req: IncomingMessage,
		res: ServerResponse,
	): Promise<boolean> {
		switch (action.type) {
			case 'stream':
				return false; // read by the stream route (streamFaults)
			case 'drop':
				req.socket.destroy();
				return true;
			case 'hang':
				return true; // the socket is destroyed by the client or by close()
			case 'delay':
				await this.sleep(action.ms);
				return false;
			case 'lose-response': {
				// The route handler runs as usual; whatever it answers is dropped with the connection.
				const drop = (): ServerResponse => {
					req.socket.destroy();
					return res;
				};
				res.writeHead = (() => res) as unknown as ServerResponse['writeHead'];
				res.flushHeaders = () => undefined;
				res.write = (() => true) as unknown as ServerResponse['write'];
				res.end = drop as unknown as ServerResponse['end'];
				return false;
			}
			case 'status': {
				const headers: Record<string, string> = {};
				let payload = '';
				if (action.status !== 204 && action.status !== 304) {
					const body =
						action.body === undefined
							? { detail: STATUS_CODES[action.status] ?? 'Error' }
							: action.body;
					if (typeof body === 'string') {
						payload = body;
						headers['Content-Type'] = action.contentType ?? 'text/plain; charset=utf-8';
					} else {
						payload = JSON.stringify(body);
						headers['Content-Type'] = action.contentType ?? 'application/json';
					}
					headers['Content-Length'] = String(Buffer.byteLength(payload));
				}
				for (const [k, v] of Object.entries(action.headers ?? {})) {
					// Caller-supplied headers win (including a custom content-type).
					for (const existing of Object.keys(headers))
						if (existing.toLowerCase() === k.toLowerCase()) delete headers[existing];
					headers[k] = v;
				}
				res.writeHead(action.status, headers);
				res.end(payload);
				return true;
			}
		}
	}

	private matchParts(parts: string[], segs: string[]): Record<string, string> | undefined {
		if (parts.length !== segs.length) return undefined;
		const params: Record<string, string> = {};
		for (let i = 0; i < parts.length; i++) {
			const p = parts[i];
			if (p.startsWith(':')) {
				if (!segs[i]) return undefined;
				try {
					params[p.slice(1)] = decodeURIComponent(segs[i]);
				} catch {
					params[p.slice(1)] = segs[i];
				}
			} else if (p !== segs[i]) {
				return undefined;
			}
		}
		return params;
	}

	private match(
		method: string,
		segs: string[],
	): { route: Route; params: Record<string, string> } | 'method' | undefined {
		let pathMatched = false;
		for (const route of this.routes) {
			const params = this.matchParts(route.parts, segs);
			if (!params) continue;
			if (route.method === method) return { route, params };
			pathMatched = true;
		}
		return pathMatched ? 'method' : undefined;
	}

	private buildRoutes(withOrganizations: boolean): Route[] {
		const r = (method: string, path: string, handler: Handler): Route => ({
			method,
			parts: path.split('/'),
			handler,
		});
		const routes: Route[] = [
			r('GET', '/api/v1/projects', (c) => this.listProjectsV1(c)),
			r('GET', '/api/v1/projects/:project_id', (c) => this.getProject(c)),
			r('GET', '/api/v2/projects', (c) => this.listProjectsV2(c)),
			r('GET', '/api/v2/projects/:project_id', (c) => this.getProject(c)),
			r('GET', '/api/v1/indexes', (c) => this.listIndexes(c)),
			r('GET', '/api/v1/indexes/:index_id', (c) => this.getIndex(c)),
			r('GET', '/api/v1/chat', (c) => this.listSessions(c)),
			r('POST', '/api/v1/chat', (c) => this.createSession(c)),
			r('GET', '/api/v1/chat/:session_id', (c) => this.getSessionRoute(c, true)),
			r('DELETE', '/api/v1/chat/:session_id', (c) => this.deleteSession(c)),
			r('GET', '/api/v1/chat/:session_id/summary', (c) => this.getSessionRoute(c, false)),
			r('POST', '/api/v1/chat/:session_id/messages/stream', (c) => this.streamMessages(c)),
		];
		if (withOrganizations)
			routes.push(r('GET', '/api/v1/organizations', (c) => this.listOrganizations(c)));
		return routes;
	}

	// ---- scope (organization / project) -----------------------------------------

	private scopeParams(q: Map<string, string>, issues: ValidationIssue[]): ScopeParams {
		const out: ScopeParams = {};
		const org = q.get('organization_id');
		if (org !== undefined) out.orgId = parseUuid(org, ['query', 'organization_id'], issues);
		const proj = q.get('project_id');
		if (proj !== undefined) out.projectId = parseUuid(proj, ['query', 'project_id'], issues);
		return out;
	}

	/** Sends 404/403 and returns false when the key may not use the organization. */
	private checkOrg(res: ServerResponse, orgId: string): boolean {
		const org = this.store.orgs.get(orgId);
		if (!org) {
			sendError(res, 404, 'Organization not found');
			return false;
		}
		if (!org.member) {
			sendError(res, 403, 'You do not have access to this organization');
			return false;
		}
		return true;
	}

	private resolveProject(res: ServerResponse, s: ScopeParams): ProjectSeed | undefined {
		if (s.orgId !== undefined && !this.checkOrg(res, s.orgId)) return undefined;
		if (s.projectId !== undefined) {
			const p = this.store.projects.get(s.projectId);
			// A project outside the named organization is a 404 (not 403) so ids don't leak across orgs.
			if (!p || (s.orgId !== undefined && p.organization_id !== s.orgId)) {
				sendError(res, 404, 'Project not found');
				return undefined;
			}
			if (!p.accessible) {
				sendError(res, 403, 'You do not have access to this project');
				return undefined;
			}
			return p;
		}
		const def = this.store.projects.get(FIXTURE_IDS.defaultProjectId) as ProjectSeed;
		if (s.orgId === undefined || def.organization_id === s.orgId) return def;
		const alt = [...this.store.projects.values()].find(
			(p) => p.organization_id === s.orgId && p.accessible,
		);
		if (!alt) sendError(res, 404, 'Project not found');
		return alt;
	}

	private accessibleProjects(orgId?: string): ProjectSeed[] {
		return [...this.store.projects.values()].filter(
			(p) => p.accessible && (orgId === undefined || p.organization_id === orgId),
		);
	}

	// ---- projects / organizations -----------------------------------------------

	private listOrganizations({ res }: Ctx): void {
		sendJson(res, 200, [...this.store.orgs.values()].filter((o) => o.member).map(Store.orgJson));
	}

	private listProjectsV1({ res, q }: Ctx): void {
		const issues: ValidationIssue[] = [];
		const { orgId } = this.scopeParams(q, issues);
		if (issues.length) return send422(res, issues);
		if (orgId !== undefined && !this.checkOrg(res, orgId)) return;
		const name = q.get('project_name');
		const items = this.accessibleProjects(orgId).filter((p) => !name || p.name === name);
		sendJson(res, 200, items.map(Store.projectJson));
	}

	private listProjectsV2({ res, q }: Ctx): void {
		const issues: ValidationIssue[] = [];
		const { orgId } = this.scopeParams(q, issues);
		const paging = parsePaging(q, issues, this.options.pageSizeLimit);
		if (issues.length) return send422(res, issues);
		if (orgId !== undefined && !this.checkOrg(res, orgId)) return;
		const name = q.get('name');
		const items = this.accessibleProjects(orgId).filter((p) => !name || p.name === name);
		sendJson(res, 200, paginate(items.map(Store.projectJson), paging));
	}

	private getProject({ res, q, params }: Ctx): void {
		const issues: ValidationIssue[] = [];
		const { orgId } = this.scopeParams(q, issues);
		const projectId = parseUuid(params.project_id, ['path', 'project_id'], issues);
		if (issues.length) return send422(res, issues);
		const p = this.resolveProject(res, { orgId, projectId });
		if (p) sendJson(res, 200, Store.projectJson(p));
	}

	// ---- indexes ------------------------------------------------------------------

	private listIndexes({ res, q }: Ctx): void {
		const issues: ValidationIssue[] = [];
		const scope = this.scopeParams(q, issues);
		const paging = parsePaging(q, issues, this.options.pageSizeLimit);
		if (issues.length) return send422(res, issues);
		const project = this.resolveProject(res, scope);
		if (!project) return;
		const dir = q.get('source_directory_id');
		const items = this.store
			.indexesOf(project.id)
			.filter((i) => !dir || i.source_directory_id === dir);
		// The docs example for this endpoint shows `"next_page_token": null` on the last page.
		sendJson(res, 200, paginate(items.map(Store.indexJson), paging, true));
	}

	private getIndex({ res, q, params }: Ctx): void {
		const issues: ValidationIssue[] = [];
		const scope = this.scopeParams(q, issues);
		if (issues.length) return send422(res, issues);
		let idx: IndexRecord | undefined;
		if (scope.projectId !== undefined) {
			const project = this.resolveProject(res, scope);
			if (!project) return;
			idx = this.store.indexIn(project.id, params.index_id);
		} else {
			// Without project_id, any index the key can reach is found by id.
			if (scope.orgId !== undefined && !this.checkOrg(res, scope.orgId)) return;
			const candidate = this.store.indexes.get(params.index_id);
			const owner = candidate && this.store.projects.get(candidate.project_id);
			if (
				owner &&
				owner.accessible &&
				(scope.orgId === undefined || owner.organization_id === scope.orgId)
			)
				idx = candidate;
		}
		if (!idx) return sendError(res, 404, 'Index not found');
		sendJson(res, 200, Store.indexJson(idx));
	}

	// ---- chat sessions --------------------------------------------------------------

	private listSessions({ res, q }: Ctx): void {
		const issues: ValidationIssue[] = [];
		const scope = this.scopeParams(q, issues);
		const paging = parsePaging(q, issues, this.options.pageSizeLimit);
		if (issues.length) return send422(res, issues);
		const project = this.resolveProject(res, scope);
		if (!project) return;
		const all = this.store.sessionsOf(project.id);
		const page = paginate(all, paging);
		sendJson(res, 200, { ...page, items: page.items.map((s) => this.summary(s)) });
	}

	private createSession({ res, q, rec }: Ctx): void {
		const issues: ValidationIssue[] = [];
		const scope = this.scopeParams(q, issues);
		const body = validateCreateBody(parseJsonBody(rec.rawBody), issues, this.currentRevision === 'current');
		if (issues.length || !body) return send422(res, issues);
		const project = this.resolveProject(res, scope);
		if (!project) return;
		for (const id of body.indexIds ?? []) {
			if (!this.store.indexIn(project.id, id))
				return sendError(res, 404, `Index '${id}' not found`);
		}
		// Null follows the deployment default; the sandbox's is read_only.
		const s = this.store.createSession(project.id, body.indexIds, body.sharedAccess ?? 'read_only');
		this.stats.sessionsCreated++;
		sendJson(res, 201, this.summary(s));
	}

	/** Shared scope + lookup for the session-by-id routes; sends the error itself. */
	private findSession(
		ctx: Ctx,
		extraIssues: ValidationIssue[] = [],
	): { session: SessionRecord; project: ProjectSeed } | undefined {
		const issues: ValidationIssue[] = [];
		const scope = this.scopeParams(ctx.q, issues);
		issues.push(...extraIssues);
		if (issues.length) {
			send422(ctx.res, issues);
			return undefined;
		}
		const project = this.resolveProject(ctx.res, scope);
		if (!project) return undefined;
		const session = this.store.sessionIn(project.id, ctx.params.session_id);
		if (!session) {
			sendError(ctx.res, 404, 'Session not found');
			return undefined;
		}
		return { session, project };
	}

	private getSessionRoute(ctx: Ctx, full: boolean): void {
		const found = this.findSession(ctx);
		if (found)
			sendJson(ctx.res, 200, this.summary(found.session, full));
	}

	private deleteSession(ctx: Ctx): void {
		const found = this.findSession(ctx);
		if (!found) return;
		this.store.sessions.delete(found.session.session_id);
		this.stats.sessionsDeleted++;
		ctx.res.writeHead(204);
		ctx.res.end();
	}

	private async streamMessages(ctx: Ctx): Promise<void> {
		const { res } = ctx;
		const current = this.currentRevision === 'current';
		const bodyIssues: ValidationIssue[] = [];
		const body = validateStreamBody(parseJsonBody(ctx.rec.rawBody), bodyIssues, current);
		const found = this.findSession(ctx, bodyIssues);
		if (!found || !body) return;
		const { session, project } = found;
		for (const id of body.indexIds) {
			if (!this.store.indexIn(project.id, id))
				return sendError(res, 404, `Index '${id}' not found`);
		}
		const requested = [...new Set(body.indexIds)];
		// A bound session's set is its own and never changes (a session created with `[]` binds nothing).
		const bound = session.index_ids && session.index_ids.length > 0 ? session.index_ids : null;
		if (bound && !sameSet(bound, requested) && this.options.boundSetMismatch !== 'use-session-set') {
			return sendError(
				res,
				400,
				`This session is bound to ${bound.join(', ')}: index_ids must name the same indexes`,
			);
		}
		if (bound) session.locked = true;
		const targets = (bound ?? requested)
			.map((id) => this.store.indexes.get(id))
			.filter((i): i is IndexRecord => !!i);
		const skipped = targets.filter((i) => this.unqueryable.has(i.id)).map((i) => i.id);
		const indexes = targets.filter((i) => !this.unqueryable.has(i.id));

		const override = this.streamFaults.get(ctx.rec);
		const b = override ? { ...this.behaviour, ...override } : this.behaviour;
		const framing: Framing = b.framing ?? 'documented';
		if (b.events) ctx.offContract('the test scripted the events');
		else if (framing !== 'documented') ctx.offContract(`framing '${framing}'`);
		else if (b.mode === 'truncate-before-stop' || b.mode === 'drop-mid-stream') ctx.offContract(`stream mode '${b.mode}'`);
		const mode = b.mode ?? 'normal';
		const errorMessage = b.errorMessage ?? DEFAULT_ERROR_MESSAGE;
		const generatedStops = new WeakSet<object>();
		let events: ChatEvent[];
		if (b.events) {
			events = structuredClone(b.events) as ChatEvent[];
		} else {
			const frameBytes = (ev: ChatEvent): number => {
				let n = 0;
				for (const f of frames([ev], framing, errorMessage)) n += Buffer.byteLength(f.text);
				return n;
			};
			const asked = session.events.filter((e) => e.type === 'user_input');
			const previous = asked[asked.length - 1];
			events = planTurn({
				prompt: body.prompt,
				indexes,
				context: b.contextAnswers
					? {
							turn: asked.length + 1,
							previousPrompt: typeof previous?.content === 'string' ? previous.content : undefined,
						}
					: undefined,
				answer: b.answer,
				answerBytes: b.answerBytes,
				frameBytes,
			}).events;
			const stop = events[events.length - 1];
			generatedStops.add(stop);
			if (current && skipped.length > 0 && body.requireAllIndexes === true) {
				// The turn fails before any retrieval: only the error stop is sent.
				events = [failedForSkippedIndexes(skipped)];
				generatedStops.add(events[0]);
			} else if (current) {
				stop.skipped_index_ids = skipped;
			}
		}
		if (mode === 'in-band-error') events = toInBandError(events, errorMessage, generatedStops);
		else if (mode === 'truncate-before-stop') events = events.filter((e) => e.type !== 'stop');
		const cutAt = mode === 'drop-mid-stream' ? Math.floor(events.length / 2) : -1;

		// The spec is silent on two messages at once in one session: the second is refused with 409
		// (FastAPI's `detail`), before anything is stored, as a lock held by the first would refuse it.
		if (this.answering.has(session.session_id)) {
			return sendError(res, 409, 'A message is already being answered in this session');
		}
		this.answering.add(session.session_id);
		res.once('close', () => this.answering.delete(session.session_id));
		session.events.push({ type: 'user_input', content: body.prompt });
		session.generated_title ??= makeTitle(body.prompt);
		this.store.touch(session);
		this.stats.turnsStarted++;

		res.writeHead(200, {
			'Content-Type': 'text/event-stream',
			'Cache-Control': 'no-cache',
			Connection: 'keep-alive',
			'X-Accel-Buffering': 'no',
		});
		res.flushHeaders();

		const writer = new BodyWriter(res, {
			chunkSize: b.chunkSize,
			chunkDelayMs: b.chunkDelayMs,
			sleep: this.sleep,
		});
		const stampDuration = (ev: ChatEvent): void => {
			if (generatedStops.has(ev) && ev.usage && typeof ev.usage === 'object') {
				(ev.usage as Record<string, unknown>).duration_ms =
					Math.round((performance.now() - ctx.startedAt) * 10) / 10;
			}
		};
		let stop: ChatEvent | undefined;
		const timing: TurnTiming = { sessionId: session.session_id, prompt: body.prompt, startedAt: ctx.startedAt, deltas: [] };
		this.turnTimings.push(timing);
		res.on('close', () => (timing.finishedAt ??= performance.now()));
		// Frames and keep-alive comments take turns on the wire, never inside each other; a ping first
		// flushes what a chunked write held back.
		let wire: Promise<boolean> = Promise.resolve(true);
		const send = (text: string | Buffer): Promise<boolean> => (wire = wire.then(async () => await writer.write(text)));
		let open = true;
		if (b.pingEveryMs && b.pingEveryMs > 0) {
			const every = b.pingEveryMs;
			void (async () => {
				while (open && !writer.closed && !this.closed) {
					await this.sleep(every);
					await (wire = wire.then(async () => open && (await writer.flush()) && (await writer.write(PING))));
				}
			})();
		}
		res.on('close', () => (open = false));
		const stallAt = b.stallAfterEvents !== undefined && (b.stallPrompt === undefined || b.stallPrompt === body.prompt) ? b.stallAfterEvents : -1;
		if (stallAt >= 0) ctx.offContract('a stalled turn (no stop event)');
		let written = 0;
		for (const frame of frames(events, framing, errorMessage, stampDuration)) {
			if (frame.event && written++ === stallAt) {
				await writer.flush();
				await this.stall(writer, b.keepAliveEveryMs);
				this.store.touch(session);
				return;
			}
			if (cutAt >= 0 && frame.event && frame.event === events[cutAt]) {
				// Half of this event's bytes, then a hard socket reset.
				const buf = Buffer.from(frame.text, 'utf8');
				await send(buf.subarray(0, Math.max(1, Math.floor(buf.length / 2))));
				await writer.flush();
				await this.waitSocketFlushed(res);
				res.socket?.destroy();
				this.store.touch(session);
				return;
			}
			if (!(await send(frame.text))) break;
			if (frame.event?.type === 'text_delta') {
				timing.deltas.push({ content: String(frame.event.content ?? ''), writtenAt: performance.now() });
				if (b.deltaDelayMs) await this.sleep(b.deltaDelayMs);
			}
			if (frame.event) {
				session.events.push(frame.event);
				if (frame.event.type === 'stop') {
					stop = frame.event;
					this.answering.delete(session.session_id); // answered: the session takes the next message
					this.applyStop(session, stop, indexes);
				}
			}
			await writer.eventGap();
		}
		open = false; // the stop was sent: no comment after it
		await wire;
		const delivered = !writer.closed && (await writer.flush());
		this.store.touch(session);
		if (!delivered) return;
		if (stop) this.stats.turnsCompleted++;
		if (stop && b.holdOpenAfterStopMs) {
			await Promise.race([this.sleep(b.holdOpenAfterStopMs), new Promise((resolve) => res.once('close', resolve))]);
		}
		timing.finishedAt = performance.now();
		if (res.destroyed) return;
		res.end();
	}

	private applyStop(session: SessionRecord, stop: ChatEvent, indexes: IndexRecord[]): void {
		const usage = (stop.usage && typeof stop.usage === 'object' ? stop.usage : {}) as Record<
			string,
			unknown
		>;
		session.job_metadata = {
			duration_ms: num(usage.duration_ms, 0),
			error: typeof stop.error === 'string' ? stop.error : null,
			export_config_ids: indexes.map((i) => i.export_config_id),
			is_error: stop.is_error === true,
			total_input_tokens: numOrNull(usage.total_input_tokens),
			total_output_tokens: numOrNull(usage.total_output_tokens),
			turns: num(usage.turns, 1),
		};
	}

	/** Sends nothing but keep-alive comments (every `keepAliveEveryMs`, or none) until the client or the sandbox closes. */
	private async stall(writer: BodyWriter, keepAliveEveryMs: number | undefined): Promise<void> {
		const pause = keepAliveEveryMs && keepAliveEveryMs > 0 ? keepAliveEveryMs : 1000;
		while (!writer.closed && !this.closed) {
			await this.sleep(pause);
			if (keepAliveEveryMs && !(await writer.write(PING))) return;
		}
	}

		/** Lets already-written bytes reach the kernel before a deliberate socket reset. */
	private async waitSocketFlushed(res: ServerResponse): Promise<void> {
		for (let i = 0; i < 100 && res.socket && res.socket.writableLength > 0; i++) {
			await new Promise((r) => setImmediate(r));
		}
		await this.sleep(5);
	}
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
	const sb = new SandboxServer(options);
	await sb.listen();
	return sb;
}
