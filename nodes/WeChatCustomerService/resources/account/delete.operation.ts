import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';

import { weChatOperation } from '../../helpers/operation';
import { selectedKfAccount } from '../../helpers/validation';

export const option: INodePropertyOptions = {
	name: 'Delete',
	value: 'delete',
	action: 'Delete a customer service account',
	description: 'Remove a customer-service account (删除客服账号)',
	routing: weChatOperation({
		method: 'POST',
		url: '/customservice/kfaccount/del',
		read: (context) => selectedKfAccount(context),
		run: async (kfAccount, send) => {
			// WeChat's documents disagree on this call (POST with a JSON body, GET or POST with a query parameter);
			// the account in both the query and the body is accepted by every documented variant
			// (docs/wechat-protocol.md §7).
			await send({ qs: { kf_account: kfAccount }, body: { kf_account: kfAccount } });
			return { kf_account: kfAccount, deleted: true };
		},
	}),
};

// Its only parameter, the account, is shared with other operations: see index.ts.
export const fields: INodeProperties[] = [];
