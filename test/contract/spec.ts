// LlamaCloud's published contract, per API revision, as JSON Schema 2020-12 documents for Ajv.
//
// '2026-08' is the published OpenAPI 3.1 spec as mirrored on 2026-08-21 (see SOURCE.md), unchanged.
// 'current' is that spec plus the additions of the newer "GA chat" revision that LlamaCloud's docs
// describe (API reference §8): `shared_access` on create and in every session, `require_all_indexes`
// on a message, `skipped_index_ids` on the `stop` event. The overlay is written out below, field by
// field, so what is added is reviewable.
//
// Both are made *closed*: an object schema with `properties` and no `additionalProperties` gets
// `additionalProperties: false`. FastAPI's response models drop undeclared fields, so a field the
// revision does not declare cannot come from LlamaCloud; and a request field it does not declare is
// silently ignored by LlamaCloud, so a client that sends one relies on something outside the contract.

import type { Revision } from '../sandbox/server';
import published from './llamacloud-chat-openapi.json';

export type { Revision };

export const REVISIONS: readonly Revision[] = ['2026-08', 'current'];

type Json = Record<string, unknown>;

/** The newer revision's additions (API reference §8, [DOCS]). */
function applyCurrentRevision(spec: Json): void {
	const schemas = (spec.components as Json).schemas as Record<string, Json>;
	const props = (name: string): Json => schemas[name].properties as Json;
	schemas.ShareLinkAccess = {
		type: 'string',
		enum: ['read_only', 'query'],
		title: 'ShareLinkAccess',
		description: "What this chat's share link grants: read_only (transcript only) or query (viewers may ask new questions).",
	};
	props('SessionCreate').shared_access = {
		anyOf: [{ $ref: '#/components/schemas/ShareLinkAccess' }, { type: 'null' }],
		description: 'Null follows the deployment default.',
	};
	for (const name of ['ChatSessionSummary', 'SessionDetail']) {
		props(name).shared_access = { $ref: '#/components/schemas/ShareLinkAccess' };
		schemas[name].required = [...(schemas[name].required as string[]), 'shared_access'];
	}
	props('ChatParams').require_all_indexes = {
		type: 'boolean',
		description: 'Fail the turn if any requested index cannot be queried.',
	};
	props('StopEvent').skipped_index_ids = { type: 'array', items: { type: 'string' } };
}

/** Adds `additionalProperties: false` to every object schema that lists its properties. */
function close(node: unknown): void {
	if (Array.isArray(node)) return node.forEach(close);
	if (!node || typeof node !== 'object') return;
	const schema = node as Json;
	if (schema.properties && typeof schema.properties === 'object' && !('additionalProperties' in schema)) {
		schema.additionalProperties = false;
	}
	for (const [key, value] of Object.entries(schema)) {
		// `properties` maps names to schemas: recurse into the schemas, not the map itself.
		if (key === 'properties' && value && typeof value === 'object') Object.values(value).forEach(close);
		else if (key !== 'examples' && key !== 'example' && key !== 'default') close(value);
	}
}

const cache = new Map<Revision, Json>();

/** The revision's spec document (a fresh copy the first time, then cached). */
export function specFor(revision: Revision): Json {
	let spec = cache.get(revision);
	if (!spec) {
		spec = structuredClone(published) as unknown as Json;
		if (revision === 'current') applyCurrentRevision(spec);
		close((spec.components as Json).schemas);
		for (const path of Object.values(spec.paths as Json)) close(path);
		cache.set(revision, spec);
	}
	return spec;
}
