/* eslint-disable @n8n/community-nodes/no-restricted-globals, no-console -- Node.js test/dev code, never run inside n8n */
/**
 * The LlamaCloud sandbox in its own process, driven over IPC by the benchmark. Keeping the server
 * out of the measured process means its CPU time and its memory (a 10 MB stream is planned in
 * full before it is written) never count against the node or the baselines.
 *
 * Started with child_process.fork(); exits when the parent disconnects.
 */
import { startSandbox, type Latency, type StreamBehaviour } from '../../test/sandbox';

export type SandboxCommand =
	| { id: number; cmd: 'setLatency'; ms: Latency }
	| { id: number; cmd: 'setStreamBehaviour'; behaviour: StreamBehaviour }
	| { id: number; cmd: 'reset' }
	| { id: number; cmd: 'stats' }
	| { id: number; cmd: 'lastRequest' }
	| { id: number; cmd: 'streamFaults'; faults: StreamFault[] }
	| { id: number; cmd: 'soakLog' }
	| { id: number; cmd: 'close' };

/** One message stream, named by its prompt, answered with its own behaviour (the soak's cut and stalled streams). */
export interface StreamFault {
	prompt: string;
	behaviour: StreamBehaviour;
}

/** What the soak reads back: every message POSTed, and each streamed turn's own time. */
export interface SoakLog {
	/** Each `POST …/messages/stream`, in arrival order: its prompt and session. */
	messages: Array<{ prompt: string; sessionId: string }>;
	/** Each streamed turn: the sandbox's time from the request's arrival to the response's end (undefined while still open). */
	turns: Array<{ prompt: string; ms?: number }>;
}

const STREAM_PATH = /^\/api\/v1\/chat\/[^/]+\/messages\/stream$/;

export interface SandboxReply {
	id: number;
	ok: boolean;
	result?: unknown;
	error?: string;
}

export interface SandboxReady {
	ready: true;
	url: string;
	apiKey: string;
	defaultProjectId: string;
	indexIds: string[];
}

async function main(): Promise<void> {
	if (!process.send) throw new Error('sandbox-process must be started with child_process.fork()');
	const sandbox = await startSandbox({ host: '127.0.0.1' });
	const send = (message: SandboxReply | SandboxReady) => process.send?.(message);

	process.on('message', (raw: SandboxCommand) => {
		void (async () => {
			try {
				let result: unknown;
				switch (raw.cmd) {
					case 'setLatency':
						sandbox.setLatency(raw.ms);
						break;
					case 'setStreamBehaviour':
						sandbox.setStreamBehaviour(raw.behaviour);
						break;
					case 'reset':
						// Also drops recorded requests and created sessions, so memory stays flat across runs.
						sandbox.reset();
						break;
					case 'stats':
						result = { ...sandbox.stats, requests: sandbox.requests.length };
						break;
					case 'lastRequest': {
						const last = sandbox.requests[sandbox.requests.length - 1];
						result = last && { method: last.method, path: last.path, rawQuery: last.rawQuery, headers: last.headers, rawBody: last.rawBody };
						break;
					}
					case 'streamFaults':
						for (const fault of raw.faults) {
							sandbox.injectFault({
								method: 'POST',
								path: STREAM_PATH,
								when: (req) => (req.body as { prompt?: unknown } | undefined)?.prompt === fault.prompt,
								action: { type: 'stream', behaviour: fault.behaviour },
							});
						}
						break;
					case 'soakLog': {
						const log: SoakLog = {
							messages: sandbox.requests
								.filter((r) => r.method === 'POST' && STREAM_PATH.test(r.path))
								.map((r) => ({ prompt: String((r.body as { prompt?: unknown } | undefined)?.prompt), sessionId: decodeURIComponent(r.path.split('/')[4]) })),
							turns: sandbox.turnTimings.map((t) => ({ prompt: t.prompt, ms: t.finishedAt === undefined ? undefined : t.finishedAt - t.startedAt })),
						};
						result = log;
						break;
					}
					case 'close':
						await sandbox.close();
						send({ id: raw.id, ok: true });
						process.disconnect();
						return;
				}
				send({ id: raw.id, ok: true, result });
			} catch (error) {
				send({ id: raw.id, ok: false, error: (error as Error).message });
			}
		})();
	});
	process.on('disconnect', () => {
		void sandbox.close().finally(() => process.exit(0));
	});

	send({
		ready: true,
		url: sandbox.url,
		apiKey: sandbox.apiKey,
		defaultProjectId: sandbox.fixtures.defaultProjectId,
		indexIds: sandbox.fixtures.indexIds,
	});
}

main().catch((error: unknown) => {
	console.error('sandbox-process failed:', error);
	process.exit(1);
});
