import type { IExecuteFunctions } from 'n8n-workflow';

import { cancelSignalOf, cancelledError, type MaybeCancellable } from '../helpers/cancel';
import { elapsed } from '../helpers/timers';

export { cancelledError, cancelSignalOf } from '../helpers/cancel';

/**
 * Waits `ms` with n8n-workflow's `sleep` (helpers/timers), but gives up as soon as n8n cancels the
 * execution, so that a long Retry-After or Batch Interval never keeps a cancelled execution sending
 * requests. Throws the cancellation (tagged `context.cancelled`) instead of returning. `stop` (e.g. a
 * turn's time running out) also ends the wait early; the caller checks it.
 */
export async function waitUnlessCancelled(
	context: MaybeCancellable | IExecuteFunctions,
	ms: number,
	doing: string,
	itemIndex?: number,
	stop?: AbortSignal,
): Promise<void> {
	const signal = cancelSignalOf(context);
	if (signal?.aborted) throw cancelledError(context, doing, itemIndex);
	const either = signal && stop ? AbortSignal.any([signal, stop]) : (signal ?? stop);
	await elapsed(ms, either);
	if (signal?.aborted) throw cancelledError(context, doing, itemIndex);
}
