import { Container, Logger } from './n8n-internals';

export interface LogLine {
	level: 'error' | 'warn' | 'info' | 'debug';
	message: string;
	metadata?: unknown;
}

/** Everything the node logs through n8n's logger, so tests can read it (and check it for secrets). */
export const logLines: LogLine[] = [];

const recordingLogger = {
	error: (message: string, metadata?: unknown) => logLines.push({ level: 'error', message, metadata }),
	warn: (message: string, metadata?: unknown) => logLines.push({ level: 'warn', message, metadata }),
	info: (message: string, metadata?: unknown) => logLines.push({ level: 'info', message, metadata }),
	debug: (message: string, metadata?: unknown) => logLines.push({ level: 'debug', message, metadata }),
	scoped() {
		return recordingLogger;
	},
};

export function installRecordingLogger(): void {
	Container.set(Logger, recordingLogger);
}
