import { randomUUID } from 'node:crypto';

import {
	INDEXES,
	ORGANIZATIONS,
	PROJECTS,
	SEED_CREATED_AT,
	SEED_UPDATED_AT,
	type IndexSeed,
	type OrganizationSeed,
	type Passage,
	type ProjectSeed,
} from './fixtures';

export type ChatEvent = { type?: string } & Record<string, unknown>;

export interface JobMetadata {
	duration_ms: number;
	error: string | null;
	export_config_ids: string[] | null;
	is_error: boolean;
	total_input_tokens: number | null;
	total_output_tokens: number | null;
	turns: number;
}

export interface IndexRecord extends IndexSeed {
	source_directory_id: string;
	output_directory_id: string;
	export_config_id: string;
	sync_config_id: string;
	created_at: string;
	updated_at: string;
}

export interface SessionRecord {
	session_id: string;
	project_id: string;
	seq: number;
	updatedMicros: number;
	last_updated_at: string;
	generated_title: string | null;
	index_ids: string[] | null;
	job_metadata: JobMetadata | null;
	/** Current revision only (shown by the server when it speaks that revision). */
	shared_access: string;
	events: ChatEvent[];
	/** Bound sessions lock their index set once the first message is sent. */
	locked: boolean;
}

/** ISO-8601 with microseconds and no timezone, like "2026-04-22T12:34:41.342245". */
export function formatMicros(micros: number): string {
	const ms = Math.floor(micros / 1000);
	const frac = String(micros % 1_000_000).padStart(6, '0');
	return new Date(ms).toISOString().slice(0, 19) + '.' + frac;
}

export class Store {
	readonly orgs = new Map<string, OrganizationSeed>();
	readonly projects = new Map<string, ProjectSeed>();
	readonly indexes = new Map<string, IndexRecord>();
	readonly sessions = new Map<string, SessionRecord>();
	private lastMicros = 0;
	private seq = 0;
	private extraIndexCounter = 0;

	constructor(private readonly seed: boolean) {
		this.load();
	}

	load(): void {
		this.orgs.clear();
		this.projects.clear();
		this.indexes.clear();
		this.sessions.clear();
		this.extraIndexCounter = 0;
		// Organizations and projects are the key's identity, so they exist even
		// without seed data; seed=false only leaves out indexes.
		for (const o of ORGANIZATIONS) this.orgs.set(o.id, { ...o });
		for (const p of PROJECTS) this.projects.set(p.id, { ...p });
		if (this.seed) for (const i of INDEXES) this.putIndex(i);
	}

	/** Strictly increasing timestamps so "newest first" ordering is stable. */
	stamp(): { micros: number; iso: string } {
		const micros = Math.max(Date.now() * 1000, this.lastMicros + 1);
		this.lastMicros = micros;
		return { micros, iso: formatMicros(micros) };
	}

	private putIndex(seed: IndexSeed): IndexRecord {
		const slug = seed.id.replace(/^idx-/, '');
		const rec: IndexRecord = {
			...seed,
			corpus: seed.corpus.map((c) => ({ ...c })),
			source_directory_id: `dir-${slug}`,
			output_directory_id: `dir-out-${slug}`,
			export_config_id: `exp-${slug}`,
			sync_config_id: `sync-${slug}`,
			created_at: SEED_CREATED_AT,
			updated_at: SEED_UPDATED_AT,
		};
		this.indexes.set(rec.id, rec);
		return rec;
	}

	indexesOf(projectId: string): IndexRecord[] {
		return [...this.indexes.values()].filter((i) => i.project_id === projectId);
	}

	indexIn(projectId: string, indexId: string): IndexRecord | undefined {
		const idx = this.indexes.get(indexId);
		return idx && idx.project_id === projectId ? idx : undefined;
	}

	addIndexes(
		projectId: string,
		count: number,
		namePrefix = 'Index',
	): Array<{ id: string; name: string }> {
		if (!this.projects.has(projectId)) throw new Error(`Unknown project ${projectId}`);
		const slug =
			namePrefix
				.toLowerCase()
				.replace(/[^a-z0-9]+/g, '-')
				.replace(/^-|-$/g, '') || 'index';
		const out: Array<{ id: string; name: string }> = [];
		for (let n = 1; n <= count; n++) {
			const k = ++this.extraIndexCounter;
			let id = `idx-${slug}-${k}`;
			while (this.indexes.has(id)) id = `idx-${slug}-${++this.extraIndexCounter}`;
			const name = `${namePrefix} ${n}`;
			const corpus: Passage[] = [
				{
					text: `${name} is a generated sandbox index (number ${k}).`,
					file_name: `${slug}-${k}.txt`,
					page: 1,
				},
			];
			this.putIndex({ id, name, project_id: projectId, description: null, corpus });
			out.push({ id, name });
		}
		return out;
	}

	createSession(
		projectId: string,
		indexIds: string[] | null,
		sharedAccess = 'read_only',
	): SessionRecord {
		const { micros, iso } = this.stamp();
		const s: SessionRecord = {
			session_id: `ses-${randomUUID()}`,
			project_id: projectId,
			seq: ++this.seq,
			updatedMicros: micros,
			last_updated_at: iso,
			generated_title: null,
			index_ids: indexIds,
			job_metadata: null,
			shared_access: sharedAccess,
			events: [],
			locked: false,
		};
		this.sessions.set(s.session_id, s);
		return s;
	}

	/** Sets a session's last update to `date` (plus `offsetMicros`, to keep a stable order). */
	backdate(s: SessionRecord, date: Date, offsetMicros = 0): void {
		s.updatedMicros = date.getTime() * 1000 + offsetMicros;
		s.last_updated_at = formatMicros(s.updatedMicros);
	}

	touch(s: SessionRecord): void {
		const { micros, iso } = this.stamp();
		s.updatedMicros = micros;
		s.last_updated_at = iso;
	}

	sessionIn(projectId: string, sessionId: string): SessionRecord | undefined {
		const s = this.sessions.get(sessionId);
		return s && s.project_id === projectId ? s : undefined;
	}

	/** Newest last_updated_at first (ties broken by creation order). */
	sessionsOf(projectId: string): SessionRecord[] {
		return [...this.sessions.values()]
			.filter((s) => s.project_id === projectId)
			.sort((a, b) => b.updatedMicros - a.updatedMicros || b.seq - a.seq);
	}

	static summary(s: SessionRecord): Record<string, unknown> {
		return {
			last_updated_at: s.last_updated_at,
			session_id: s.session_id,
			generated_title: s.generated_title,
			index_ids: s.index_ids ? [...s.index_ids] : null,
			job_metadata: s.job_metadata ? { ...s.job_metadata } : null,
		};
	}

	static full(s: SessionRecord): Record<string, unknown> {
		return { ...Store.summary(s), events: s.events };
	}

	static indexJson(i: IndexRecord): Record<string, unknown> {
		return {
			id: i.id,
			name: i.name,
			project_id: i.project_id,
			source_directory_id: i.source_directory_id,
			output_directory_id: i.output_directory_id,
			export_config_id: i.export_config_id,
			sync_config_id: i.sync_config_id,
			description: i.description,
			created_at: i.created_at,
			updated_at: i.updated_at,
			last_synced_at: i.updated_at,
			last_exported_at: i.updated_at,
			metadata: { status: 'ready', document_count: new Set(i.corpus.map((c) => c.file_name)).size },
		};
	}

	static projectJson(p: ProjectSeed): Record<string, unknown> {
		return {
			id: p.id,
			name: p.name,
			organization_id: p.organization_id,
			created_at: SEED_CREATED_AT,
			updated_at: SEED_UPDATED_AT,
			is_default: p.is_default,
		};
	}

	static orgJson(o: OrganizationSeed): Record<string, unknown> {
		return {
			id: o.id,
			name: o.name,
			created_at: SEED_CREATED_AT,
			updated_at: SEED_UPDATED_AT,
			feature_flags: {},
			parse_plan_level: 'DEFAULT',
			stripe_customer_id: null,
		};
	}
}
