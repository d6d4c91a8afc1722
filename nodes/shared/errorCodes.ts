/**
 * WeChat answers almost every failure with HTTP 200 and `{ errcode, errmsg }`, and its `errmsg` is terse English
 * that rarely says what to do. This table turns each documented code into what happened (English), WeChat's own
 * Chinese term (what users see in the WeChat admin console and search for), and how to fix it.
 */
export interface WeChatErrorExplanation {
	/** What happened, in English. */
	message: string;
	/** WeChat's Chinese term for it. */
	chinese: string;
	/** What the user can do about it. */
	fix: string;
}

/** Answers that mean "the access token you sent is not (or no longer) valid": refresh it once and retry. */
export const ACCESS_TOKEN_ERROR_CODES: readonly number[] = [40001, 40014, 42001];

const WHITELIST_PATH =
	'WeChat admin console (mp.weixin.qq.com) → 设置与开发 → 基本配置 → IP白名单 (API IP whitelist)';

const EXPLANATIONS: Record<number, WeChatErrorExplanation> = {
	[-1]: {
		// WeChat does not say whether a request answered -1 was carried out: a message may have been delivered.
		message: 'WeChat was busy; the request may or may not have been carried out',
		chinese: '系统繁忙',
		fix: 'Reads are retried already (Options → Retries). A send, create, update or delete may have been carried out: check before repeating it. To resend only the items that failed, set Settings → On Error → "Continue (regular output)": the output keeps the order of the input, one item each, and a failed one carries "error". Options → Retry Sends When WeChat Is Busy repeats sends by itself, accepting that a message can arrive twice.',
	},
	40001: {
		message: 'WeChat rejected the credentials: the AppSecret is wrong, or the access token is invalid or not the latest',
		chinese: '获取 access_token 时 AppSecret 错误，或者 access_token 无效',
		fix: 'Check the AppSecret in the credential. If another system also fetches tokens for this AppID with the classic method, switch every system to the stable token (稳定版接口调用凭据) or a central token service.',
	},
	40002: {
		message: 'Invalid grant_type in the token request',
		chinese: '不合法的凭证类型',
		fix: 'Check the credential\'s token source and API base URL.',
	},
	40003: {
		message: 'Invalid OpenID: the user is not a follower of this Official Account',
		chinese: '不合法的 OpenID',
		fix: 'Use the OpenID this Official Account received in a push (FromUserName); an OpenID of another account or app does not work.',
	},
	40004: {
		message: 'Invalid media type',
		chinese: '不合法的媒体文件类型',
		fix: 'Upload image, voice, video or thumb media only.',
	},
	40005: {
		message: 'Invalid file type',
		chinese: '不合法的文件类型',
		fix: 'Check the file format: images JPG/PNG/GIF (avatars JPG only), voice AMR/MP3, video MP4, thumbnails JPG.',
	},
	40006: {
		message: 'Invalid file size',
		chinese: '不合法的文件大小',
		fix: 'Use a smaller file: images 10 MB, voice 2 MB, video 10 MB, thumbnails 64 KB, avatars 5 MB.',
	},
	40007: {
		message: 'Invalid media_id: it does not exist or has expired',
		chinese: '不合法的媒体文件 id',
		fix: 'Temporary media expire after 3 days: upload the file again (choose "Binary Data" as the media source) or use a permanent material.',
	},
	40009: {
		message: 'Invalid image size',
		chinese: '不合法的图片文件大小',
		fix: 'Use a smaller image.',
	},
	40013: {
		message: 'Invalid AppID',
		chinese: '不合法的 AppID',
		fix: 'Copy the AppID (开发者ID) again from the WeChat admin console → 设置与开发 → 基本配置.',
	},
	40014: {
		message: 'Invalid access token',
		chinese: '不合法的 access_token',
		fix: 'The node refreshes the token automatically; if this persists, check that no other system resets it.',
	},
	40125: {
		message: 'Invalid AppSecret',
		chinese: '不合法的 AppSecret',
		fix: 'Copy the AppSecret (开发者密码) again from the WeChat admin console → 设置与开发 → 基本配置; if it was reset, every system using it needs the new one.',
	},
	40164: {
		message: 'The IP address n8n calls WeChat from is not in the Official Account\'s API IP whitelist',
		chinese: '调用接口的 IP 地址不在白名单中',
		fix: `Add the IP address WeChat reports to the ${WHITELIST_PATH}, or call WeChat through a forward proxy or central token service whose IP is whitelisted (set it as the credential's API base URL or token service).`,
	},
	40200: {
		message: 'Invalid account type for this operation',
		chinese: '不合法的账户类型',
		fix: 'Typing status works only for verified service accounts with customer-service permission.',
	},
	41001: {
		message: 'The request carried no access token',
		chinese: '缺少 access_token 参数',
		fix: 'Check the credential\'s token source.',
	},
	41005: {
		message: 'The upload carried no media data',
		chinese: '缺少多媒体文件数据',
		fix: 'Check that the binary property holds the file.',
	},
	42001: {
		message: 'The access token has expired',
		chinese: 'access_token 超时',
		fix: 'The node refreshes the token automatically; if this persists, check the server clock and the token service.',
	},
	43004: {
		message: 'The recipient does not follow the Official Account',
		chinese: '需要接收者关注',
		fix: 'Customer-service messages can only be sent to followers.',
	},
	44001: {
		message: 'The media file is empty',
		chinese: '多媒体文件为空',
		fix: 'Check that the binary property holds the file.',
	},
	44002: {
		message: 'The request body is empty',
		chinese: 'POST 的数据包为空',
		fix: 'Fill in the required fields.',
	},
	45001: {
		message: 'The media file is too large',
		chinese: '多媒体文件大小超过限制',
		fix: 'Use a smaller file: images 10 MB, voice 2 MB, video 10 MB, thumbnails 64 KB.',
	},
	45002: {
		message: 'The message content is too long',
		chinese: '消息内容超过限制',
		fix: 'Shorten the text (about 2,048 bytes at most) or split it into several messages.',
	},
	45008: {
		message: 'A news (图文) message may carry only one article',
		chinese: '图文消息超过限制',
		fix: 'Send one article per message.',
	},
	45009: {
		message: 'The daily call quota of this API is used up',
		chinese: '接口调用超过限制',
		fix: 'Wait until the quota resets at midnight (Beijing time), or reset it with /cgi-bin/clear_quota (limited per month). Prefer the stable token so token calls do not use up the quota.',
	},
	45011: {
		message: 'API called too often',
		chinese: 'API 调用太频繁，请稍候再试',
		fix: 'Send fewer requests per minute (e.g. Loop Over Items with a Wait node between batches) and try again in a minute.',
	},
	45015: {
		message: 'The user has not interacted with the Official Account within the last 48 hours, or has unfollowed it',
		chinese: '回复时间超过限制',
		fix: 'Customer-service messages may only be sent within 48 hours of the user\'s last message, menu click, follow or scan. Use a template or subscription message instead.',
	},
	45047: {
		message: 'Too many customer-service messages were sent to this user since their last interaction',
		chinese: '客服接口下行条数超过上限',
		fix: 'Wait until the user interacts again; each interaction allows only a few messages.',
	},
	45072: {
		message: 'Invalid typing command',
		chinese: 'command 字段取值不对',
		fix: 'Use Typing or CancelTyping.',
	},
	45080: {
		message: 'The user has not interacted within the last 30 seconds',
		chinese: '下发输入状态，需要之前 30 秒内跟用户有过消息交互',
		fix: 'The typing status can only be shown right after the user sent a message.',
	},
	45081: {
		message: 'The typing status is already shown to this user',
		chinese: '已经在输入状态，不可重复下发',
		fix: 'Wait 15 seconds, or send the message (which ends the typing status).',
	},
	47001: {
		message: 'WeChat could not parse the request body',
		chinese: '解析 JSON/XML 内容错误',
		fix: 'Check the message fields for the chosen message type.',
	},
	48001: {
		message: 'This Official Account is not authorized to use this API (customer service requires a verified account)',
		chinese: 'api 功能未授权',
		fix: 'Customer-service APIs need a verified (微信认证) Official Account or Service Account. Check the account\'s verification and interface permissions (接口权限).',
	},
	48002: {
		message: 'The user has turned off messages from this Official Account',
		chinese: '粉丝拒收消息',
		fix: 'The user chose not to receive messages; nothing can be sent.',
	},
	48004: {
		message: 'This API has been banned for the Official Account',
		chinese: 'api 接口被封禁',
		fix: 'See the notice in the WeChat admin console.',
	},
	61452: {
		message: 'Invalid customer-service account (legacy multi-customer-service error)',
		chinese: '无效客服账号',
		fix: 'Use the full account, prefix@WeChatID.',
	},
	61453: {
		message: 'The customer-service account already exists (legacy)',
		chinese: '客服帐号已存在',
		fix: 'Choose another prefix.',
	},
	61454: {
		message: 'The customer-service account prefix is longer than 10 characters (legacy)',
		chinese: '客服帐号名长度超过限制',
		fix: 'Use a prefix of at most 10 characters.',
	},
	61455: {
		message: 'The customer-service account prefix contains illegal characters (legacy)',
		chinese: '客服帐号名包含非法字符',
		fix: 'Use only English letters, digits and underscores before the @.',
	},
	61456: {
		message: 'Too many customer-service accounts (legacy)',
		chinese: '客服帐号个数超过限制',
		fix: 'Delete unused accounts.',
	},
	61457: {
		message: 'Invalid avatar file type (legacy)',
		chinese: '无效头像文件类型',
		fix: 'Upload a JPG image.',
	},
	65400: {
		message: 'The new customer-service feature is not enabled for this Official Account, or was enabled moments ago',
		chinese: 'API不可用，即没有开通/升级到新版客服功能',
		fix: 'Enable 客服功能 in the WeChat admin console (功能 → 客服), then wait a few minutes.',
	},
	65401: {
		message: 'Invalid customer-service account: it does not exist',
		chinese: '无效客服帐号',
		fix: 'Pick the account from the list, or check it with Account → Get Many.',
	},
	65402: {
		message: 'The customer-service account is not bound to a WeChat user',
		chinese: '客服帐号尚未绑定微信号，不能投入使用',
		fix: 'Invite a worker first (Account → Invite Worker) and wait until they accept.',
	},
	65403: {
		message: 'Illegal customer-service nickname',
		chinese: '客服昵称不合法',
		fix: 'Use a nickname of at most 16 characters without forbidden words.',
	},
	65404: {
		message: 'Illegal customer-service account',
		chinese: '客服帐号不合法',
		fix: 'Use the form prefix@WeChatID: a prefix of 1–10 letters, digits or underscores, then @ and the Official Account\'s WeChat ID (微信号).',
	},
	65405: {
		message: 'The Official Account already has the maximum of 100 customer-service accounts',
		chinese: '帐号数目已达到上限，不能继续添加',
		fix: 'Delete unused accounts first.',
	},
	65406: {
		message: 'This customer-service account already exists',
		chinese: '已经存在的客服帐号',
		fix: 'Use another prefix, or use Update to change the nickname.',
	},
	65407: {
		message: 'The invited WeChat user is already a worker of this Official Account',
		chinese: '邀请对象已经是该公众号客服',
		fix: 'No invitation is needed.',
	},
	65408: {
		message: 'This WeChat user has already been invited',
		chinese: '本公众号已经有一个邀请给该微信',
		fix: 'Wait for the user to accept the pending invitation.',
	},
	65409: {
		message: 'Invalid WeChat ID to invite',
		chinese: '无效的微信号',
		fix: 'Use the worker\'s personal WeChat ID (微信号), not their nickname or phone number.',
	},
	65410: {
		message: 'The invited WeChat user is bound to too many customer-service accounts',
		chinese: '邀请对象绑定公众号客服数达到上限',
		fix: 'The worker must unbind another account first.',
	},
	65411: {
		message: 'This account already has a pending invitation',
		chinese: '该帐号已经有一个等待确认的邀请，不能重复邀请',
		fix: 'Wait until the invitation is accepted or expires.',
	},
	65412: {
		message: 'This account is already bound to a WeChat user',
		chinese: '该帐号已经绑定微信号，不能进行邀请',
		fix: 'No invitation is needed.',
	},
	65413: {
		message: 'The user has no open customer-service session',
		chinese: '不存在对应用户的会话信息',
		fix: 'Check the session first with Session → Get.',
	},
	65414: {
		message: 'Another customer-service agent is serving this user',
		chinese: '客户正在被其他客服接待',
		fix: 'Close the other agent\'s session first, or leave the user with them.',
	},
	65415: {
		message: 'The customer-service agent is offline',
		chinese: '客服不在线',
		fix: 'Pick an online agent (Account → Get Online), or choose "Least-Loaded Online Agent".',
	},
	65416: {
		message: 'Invalid parameters for the chat-record query',
		chinese: '查询参数不合法',
		fix: 'Check the start and end time.',
	},
	65417: {
		message: 'The chat-record query covers more than 24 hours',
		chinese: '查询时间段超出限制',
		fix: 'Query at most 24 hours at a time (the node splits longer ranges by itself).',
	},
	89503: {
		message: 'This call needs confirmation by an administrator',
		chinese: '此次调用需要管理员确认',
		fix: 'Ask the Official Account\'s administrator to confirm the request in WeChat, then try again.',
	},
	9001001: {
		message: 'Invalid POST parameters',
		chinese: 'POST 数据参数不合法',
		fix: 'Check the fields for this operation.',
	},
};

/** Explains a WeChat `errcode`; unknown codes keep WeChat's own `errmsg`. */
export function explainWeChatError(errcode: number, errmsg?: string): WeChatErrorExplanation {
	const known = EXPLANATIONS[errcode];
	if (known) return known;
	return {
		message: `WeChat answered with error ${errcode}${errmsg ? `: ${errmsg}` : ''}`,
		chinese: '',
		fix: 'Look the code up in WeChat\'s global error-code list (全局返回码说明).',
	};
}

/** One-line summary used as an error message: `WeChat error 45015 (回复时间超过限制): …`. */
export function weChatErrorMessage(errcode: number, errmsg?: string): string {
	const { message, chinese } = explainWeChatError(errcode, errmsg);
	return `WeChat error ${errcode}${chinese ? ` (${chinese})` : ''}: ${message}`;
}

/** The part of WeChat's 40164 `errmsg` that names the IP it saw, e.g. "invalid ip 203.0.113.7 ipv6 ::ffff:…". */
export function ipFromWhitelistError(errmsg: string | undefined): string | undefined {
	const match = /invalid ip\s+([0-9a-fA-F.:]+)/.exec(errmsg ?? '');
	return match?.[1];
}
