/* eslint-disable @n8n/community-nodes/no-dangerous-functions, @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports -- Node.js test/dev code, never run inside n8n */
import { execFile, type ExecFileOptions } from 'node:child_process';

export function median(values: number[]): number {
	if (values.length === 0) return Number.NaN;
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function fmt(value: number, digits = 2): string {
	return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	try {
		return await Promise.race([
			promise,
			new Promise<never>((_, reject) => {
				timer = setTimeout(() => reject(new Error(`${label} took longer than ${ms} ms`)), ms);
			}),
		]);
	} finally {
		if (timer) clearTimeout(timer);
	}
}

export interface ChildResult {
	stdout: string;
	stderr: string;
	code: number | null;
}

/** Runs a command to completion (killed after `timeoutMs`); never rejects on a non-zero exit. */
export function run(file: string, args: string[], options: ExecFileOptions & { timeoutMs: number }): Promise<ChildResult> {
	return new Promise((resolve) => {
		execFile(
			file,
			args,
			{ ...options, timeout: options.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
			(error, stdout, stderr) => {
				const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
				resolve({ stdout: String(stdout), stderr: String(stderr), code });
			},
		);
	});
}

/** Children report their result on one `BENCH_RESULT {json}` line of stdout. */
export const RESULT_PREFIX = 'BENCH_RESULT ';

export function parseChildResult<T>(result: ChildResult, label: string): T {
	const line = result.stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
	if (!line) {
		throw new Error(`${label} gave no result (exit ${result.code}): ${(result.stderr || result.stdout).slice(-2000)}`);
	}
	return JSON.parse(line.slice(RESULT_PREFIX.length)) as T;
}
