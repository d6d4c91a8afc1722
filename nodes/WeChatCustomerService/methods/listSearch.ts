import type { IDataObject, ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { weChatApiRequest } from '../transport/weChatApiRequest';

/** Feeds the "From List" mode of every customer-service account picker (getkflist). */
export async function searchKfAccounts(
	this: ILoadOptionsFunctions,
	filter?: string,
): Promise<INodeListSearchResult> {
	const response = await weChatApiRequest.call(this, {
		method: 'GET',
		url: '/cgi-bin/customservice/getkflist',
	});
	const accounts = (response.kf_list as IDataObject[] | undefined) ?? [];
	const needle = (filter ?? '').trim().toLowerCase();
	const results = accounts
		.map((account) => ({
			account: String(account.kf_account ?? ''),
			nickname: String(account.kf_nick ?? ''),
		}))
		.filter(
			({ account, nickname }) =>
				!needle || account.toLowerCase().includes(needle) || nickname.toLowerCase().includes(needle),
		)
		.map(({ account, nickname }) => ({
			name: nickname ? `${nickname} (${account})` : account,
			value: account,
		}));
	return { results };
}
