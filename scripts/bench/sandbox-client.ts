/* eslint-disable @n8n/community-nodes/no-dangerous-functions, @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports -- Node.js test/dev code, never run inside n8n */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

import type { Latency, StreamBehaviour } from '../../test/sandbox';
import type { SandboxCommand, SandboxReady, SandboxReply, SoakLog, StreamFault } from './sandbox-process';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type CommandBody = WithoutId<SandboxCommand>;

export interface RecordedSummary {
	method: string;
	path: string;
	rawQuery: string;
	headers: Record<string, string | string[] | undefined>;
	rawBody: string;
}

/** A sandbox running in a child process (see sandbox-process.ts). */
export class RemoteSandbox {
	private nextId = 1;

	private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

	private constructor(
		private readonly child: ChildProcess,
		readonly info: SandboxReady,
	) {
		child.on('message', (message: SandboxReply) => {
			const waiter = this.pending.get(message.id);
			if (!waiter) return;
			this.pending.delete(message.id);
			if (message.ok) waiter.resolve(message.result);
			else waiter.reject(new Error(message.error ?? 'sandbox command failed'));
		});
		child.on('exit', () => {
			for (const waiter of this.pending.values()) waiter.reject(new Error('sandbox process exited'));
			this.pending.clear();
		});
	}

	static async start(timeoutMs = 20_000): Promise<RemoteSandbox> {
		const child = fork(join(__dirname, 'sandbox-process.js'), [], {
			stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
			execArgv: [],
		});
		const info = await new Promise<SandboxReady>((resolve, reject) => {
			const timer = setTimeout(() => {
				child.kill();
				reject(new Error('sandbox process did not start in time'));
			}, timeoutMs);
			child.once('message', (message: SandboxReady) => {
				clearTimeout(timer);
				resolve(message);
			});
			child.once('exit', (code) => {
				clearTimeout(timer);
				reject(new Error(`sandbox process exited early (code ${code})`));
			});
		});
		return new RemoteSandbox(child, info);
	}

	get url(): string {
		return this.info.url;
	}

	get apiKey(): string {
		return this.info.apiKey;
	}

	get pid(): number | undefined {
		return this.child.pid;
	}

	private command(body: CommandBody, timeoutMs = 10_000): Promise<unknown> {
		const id = this.nextId++;
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				this.pending.delete(id);
				reject(new Error(`sandbox command ${body.cmd} timed out`));
			}, timeoutMs);
			this.pending.set(id, {
				resolve: (v) => {
					clearTimeout(timer);
					resolve(v);
				},
				reject: (e) => {
					clearTimeout(timer);
					reject(e);
				},
			});
			this.child.send({ ...body, id } as SandboxCommand);
		});
	}

	setLatency(ms: Latency): Promise<unknown> {
		return this.command({ cmd: 'setLatency', ms });
	}

	setStreamBehaviour(behaviour: StreamBehaviour): Promise<unknown> {
		return this.command({ cmd: 'setStreamBehaviour', behaviour });
	}

	reset(): Promise<unknown> {
		return this.command({ cmd: 'reset' });
	}

	async stats(): Promise<{ sessionsCreated: number; turnsStarted: number; turnsCompleted: number; sessionsDeleted: number; requests: number }> {
		return (await this.command({ cmd: 'stats' })) as never;
	}

	async lastRequest(): Promise<RecordedSummary | undefined> {
		return (await this.command({ cmd: 'lastRequest' })) as RecordedSummary | undefined;
	}

	/** Each listed prompt's message stream gets its own behaviour (once). */
	streamFaults(faults: StreamFault[]): Promise<unknown> {
		return this.command({ cmd: 'streamFaults', faults });
	}

	async soakLog(): Promise<SoakLog> {
		return (await this.command({ cmd: 'soakLog' }, 30_000)) as SoakLog;
	}

	async close(): Promise<void> {
		if (this.child.exitCode !== null || !this.child.connected) return;
		const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
		await this.command({ cmd: 'close' }).catch(() => undefined);
		const timer = setTimeout(() => this.child.kill(), 5_000);
		await exited;
		clearTimeout(timer);
	}
}
