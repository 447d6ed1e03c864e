// Programmable faults: the first matching rule wins and is consumed `times` times.

import type { StreamBehaviour } from './server';

export interface RecordedRequest {
	method: string;
	/** Raw path as received (still percent-encoded), without the query string. */
	path: string;
	query: Record<string, string | string[]>;
	rawQuery: string;
	headers: Record<string, string | string[] | undefined>;
	/** Parsed JSON, the raw string if not JSON, undefined if empty. */
	body: unknown;
	rawBody: string;
}

export type FaultAction =
	| {
			type: 'status';
			status: number;
			body?: unknown;
			headers?: Record<string, string>;
			contentType?: string;
	  }
	| { type: 'drop' }
	| { type: 'hang' }
	| { type: 'delay'; ms: number }
	/** Does what the request asks, then resets the connection instead of answering: the answer is lost. */
	| { type: 'lose-response' }
	/**
	 * A message stream answered with this behaviour on top of the current one (setStreamBehaviour), for
	 * this one request: e.g. one stream of many cut or stalled. Other routes answer as usual.
	 */
	| { type: 'stream'; behaviour: StreamBehaviour };

export interface FaultRule {
	method?: string;
	/** Exact match, or RegExp tested against the raw path (no query string). */
	path?: string | RegExp;
	/** Default 1; Infinity keeps the rule forever. */
	times?: number;
	when?: (req: RecordedRequest) => boolean;
	action: FaultAction;
}

interface ActiveRule {
	rule: FaultRule;
	remaining: number;
}

export class FaultList {
	private rules: ActiveRule[] = [];

	add(rule: FaultRule): void {
		const times = rule.times ?? 1;
		if (!(times > 0)) throw new Error('FaultRule.times must be > 0');
		this.rules.push({ rule, remaining: times });
	}

	clear(): void {
		this.rules = [];
	}

	get size(): number {
		return this.rules.length;
	}

	/** Finds the first matching rule, consumes one use and returns its action. */
	take(req: RecordedRequest): FaultAction | undefined {
		for (let i = 0; i < this.rules.length; i++) {
			const a = this.rules[i];
			if (!matches(a.rule, req)) continue;
			a.remaining -= 1;
			if (a.remaining <= 0) this.rules.splice(i, 1);
			return a.rule.action;
		}
		return undefined;
	}
}

function matches(rule: FaultRule, req: RecordedRequest): boolean {
	if (rule.method && rule.method.toUpperCase() !== req.method.toUpperCase()) return false;
	if (rule.path !== undefined) {
		if (typeof rule.path === 'string') {
			if (rule.path !== req.path) return false;
		} else {
			rule.path.lastIndex = 0; // a /g or /y regex would otherwise be stateful
			if (!rule.path.test(req.path)) return false;
		}
	}
	if (rule.when && !rule.when(req)) return false;
	return true;
}
