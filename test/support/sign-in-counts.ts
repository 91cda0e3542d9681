import type { RunningNetid } from './netid-server.js';

/** `netid_sign_ins_completed_total` for one first factor and number of factors, as /metrics would show it. */
export async function completedSignIns(netid: RunningNetid, method: 'password' | 'passkey' | 'federated', factors: '1' | '2'): Promise<number> {
  const counted = await netid.context.metrics.signInsCompleted.get();
  return counted.values.find((value) => value.labels.method === method && value.labels.factors === factors)?.value ?? 0;
}
