import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestHelper,
	IHttpRequestOptions,
	Icon,
	INodeProperties,
} from 'n8n-workflow';

import { DEFAULT_BASE_URL, obtainAccessToken } from '../nodes/shared/accessToken/obtain';
import { authenticateWithAccessToken } from '../nodes/shared/accessToken/use';
import { weChatErrorMessage } from '../nodes/shared/errorCodes';

/** Answers that make the credential test fail with WeChat's reason rather than a green tick. */
const TEST_FAILURE_CODES = [40001, 40014, 42001, 40164, 48001, 48004, 65400, 45009, 45011, -1];

export class WeChatOfficialAccountApi implements ICredentialType {
	name = 'weChatOfficialAccountApi';

	displayName = 'WeChat Official Account API';

	icon: Icon = { light: 'file:wechat.svg', dark: 'file:wechat.dark.svg' };

	documentationUrl =
		'https://github.com/n8n-nodes-wechat-customer-service/n8n-nodes-wechat-customer-service#credential';

	properties: INodeProperties[] = [
		{
			displayName: 'AppID',
			name: 'appId',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'wx1234567890abcdef',
			description:
				'The AppID (开发者ID) from the WeChat admin console → 设置与开发 → 基本配置',
		},
		{
			displayName: 'Access Token Source',
			name: 'issuer',
			type: 'options',
			default: 'stable',
			options: [
				{
					name: 'Stable Token (Recommended)',
					value: 'stable',
					description:
						'/cgi-bin/stable_token: the same token for every caller, so other systems using this AppID keep working (稳定版接口调用凭据)',
				},
				{
					name: 'Classic Token',
					value: 'classic',
					description:
						'/cgi-bin/token: each call invalidates the previous token; use only if no other system fetches tokens for this AppID',
				},
				{
					name: 'Central Token Service',
					value: 'external',
					description:
						'Your company already runs a token service (中控服务器) that owns the token: n8n asks it instead of WeChat',
				},
			],
		},
		{
			displayName: 'AppSecret',
			name: 'appSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description:
				'The AppSecret (开发者密码) from the WeChat admin console → 设置与开发 → 基本配置. The IP n8n calls from must be in the API IP whitelist (IP白名单).',
			displayOptions: { show: { issuer: ['stable', 'classic'] } },
		},
		{
			displayName: 'Token Service URL',
			name: 'externalTokenUrl',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'https://token.example.com/wechat/access_token',
			description:
				'GET on this URL must answer JSON {"access_token": "…", "expires_in": 7200}; expires_in is optional',
			displayOptions: { show: { issuer: ['external'] } },
		},
		{
			displayName: 'API Base URL',
			name: 'baseUrl',
			type: 'string',
			default: DEFAULT_BASE_URL,
			description:
				'Where WeChat\'s API is reached: the default, a backup or regional host (https://api2.weixin.qq.com, https://sh.api.weixin.qq.com, https://sz.api.weixin.qq.com, https://hk.api.weixin.qq.com), a forward proxy with a whitelisted IP, or a local emulator',
		},
		{
			displayName: 'Backup API Base URL',
			name: 'backupBaseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://api2.weixin.qq.com',
			description:
				'Optional: where a request goes again when the connection to the API Base URL could not be opened (nothing was sent), e.g. WeChat\'s backup host https://api2.weixin.qq.com. Empty: retried on the same host.',
		},
		{
			displayName: 'Push Token (令牌)',
			name: 'token',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			hint: 'Use all 32 characters WeChat allows, random letters and digits (for example the output of `openssl rand -hex 16`): a short Token can be guessed offline from one captured push URL.',
			description:
				'Only for the trigger: the Token (令牌) entered in 设置与开发 → 基本配置 → 服务器配置, used to verify that pushes come from WeChat',
		},
		{
			displayName: 'EncodingAESKey (消息加解密密钥)',
			name: 'encodingAESKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				'Only for the trigger in compatible or safe mode: the 43-character EncodingAESKey from 服务器配置',
		},
		{
			displayName: 'Previous EncodingAESKey',
			name: 'previousEncodingAESKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				'Optional: the key before the last rotation. Pushes still encrypted with it are accepted during the change-over.',
		},
		// n8n fills these through preAuthentication and shares them between executions and processes.
		{
			displayName: 'Access Token',
			name: 'accessToken',
			type: 'hidden',
			typeOptions: { expirable: true, password: true },
			default: '',
		},
		{
			displayName: 'Renew At',
			name: 'renewAt',
			type: 'hidden',
			default: 0,
		},
		{
			displayName: 'Issued For',
			name: 'issuedFor',
			type: 'hidden',
			default: '',
		},
	];

	async preAuthentication(this: IHttpRequestHelper, credentials: ICredentialDataDecryptedObject) {
		return await obtainAccessToken.call(this, credentials);
	}

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> {
		return await authenticateWithAccessToken(credentials, requestOptions);
	}

	// Getting a token proves the AppID, AppSecret and IP whitelist; listing the kf accounts proves the account is
	// verified (48001) and has the customer-service feature enabled (65400).
	test: ICredentialTestRequest = {
		request: {
			baseURL: `={{$credentials.baseUrl ? $credentials.baseUrl.replace(/\\/+$/, '') : '${DEFAULT_BASE_URL}'}}`,
			url: '/cgi-bin/customservice/getkflist',
			method: 'GET',
		},
		rules: TEST_FAILURE_CODES.map((errcode) => ({
			type: 'responseSuccessBody' as const,
			properties: { key: 'errcode', value: errcode, message: weChatErrorMessage(errcode) },
		})),
	};
}
