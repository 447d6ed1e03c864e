export { setExchangeObserverFactory, startSandbox } from './server';
export type { Latency, Revision, Sandbox, SandboxOptions, SandboxStats, StreamBehaviour, TurnTiming } from './server';
export type { FaultAction, FaultRule, RecordedRequest } from './faults';
export { DEFAULT_API_KEY, FIXTURE_IDS } from './fixtures';
export type { SandboxFixtures } from './fixtures';
export type { Framing } from './sse';
