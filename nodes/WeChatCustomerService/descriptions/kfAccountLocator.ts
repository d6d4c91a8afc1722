import type { INodeProperties } from 'n8n-workflow';

import { KF_ACCOUNT_PATTERN } from '../helpers/validation';

/** A customer-service account picked from WeChat's list (getkflist) or typed in. */
export function kfAccountLocator(overrides: Partial<INodeProperties> = {}): INodeProperties {
	return {
		displayName: 'Customer Service Account',
		name: 'kfAccount',
		type: 'resourceLocator',
		default: { mode: 'list', value: '' },
		required: true,
		description: 'The customer-service account (客服账号), prefix@WeChatID',
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				typeOptions: { searchListMethod: 'searchKfAccounts', searchable: true },
			},
			{
				displayName: 'By Account',
				name: 'id',
				type: 'string',
				placeholder: 'kf2001@gh_service',
				validation: [
					{
						type: 'regex',
						properties: {
							regex: KF_ACCOUNT_PATTERN.source,
							errorMessage: 'Use prefix@WeChatID, e.g. kf2001@gh_service',
						},
					},
				],
			},
		],
		...overrides,
	};
}
