import type { IDataObject } from 'n8n-workflow';

export interface OnlineAgent {
	kf_account: string;
	accepted_case: number;
}

/**
 * The online agent (getonlinekflist `status` ≠ 0) serving the fewest sessions; on a tie the one WeChat lists first,
 * so the choice is stable between runs. Undefined when nobody is online.
 *
 * `status` 0 is checked although the list is called "online": legacy multi-kf accounts still report offline entries.
 */
export function pickLeastLoadedAgent(onlineList: unknown): OnlineAgent | undefined {
	if (!Array.isArray(onlineList)) return undefined;
	let best: OnlineAgent | undefined;
	for (const entry of onlineList as IDataObject[]) {
		if (typeof entry !== 'object' || entry === null) continue;
		const kfAccount = String(entry.kf_account ?? '').trim();
		if (!kfAccount || Number(entry.status) === 0) continue;
		const acceptedCase = Number(entry.accepted_case ?? 0);
		const load = Number.isFinite(acceptedCase) ? acceptedCase : 0;
		if (best === undefined || load < best.accepted_case) {
			best = { kf_account: kfAccount, accepted_case: load };
		}
	}
	return best;
}
