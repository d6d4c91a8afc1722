/**
 * Labels of chat-record `opercode`s. The current getmsglist page documents only 2002 and 2003; the others come from
 * the legacy record API and still appear in old histories, so they are kept. Codes not listed pass through with an
 * "unknown" label instead of failing the export.
 */
export interface OpercodeLabel {
	en: string;
	zh: string;
}

export const OPERCODE_LABELS: Readonly<Record<number, OpercodeLabel>> = {
	1000: { en: 'Session created, waiting to be accepted', zh: '创建未接入会话' },
	1001: { en: 'Session accepted', zh: '接入会话' },
	1002: { en: 'Session started by the agent', zh: '主动发起会话' },
	1003: { en: 'Session transferred', zh: '转接会话' },
	1004: { en: 'Session closed', zh: '关闭会话' },
	1005: { en: 'Session taken over by another agent', zh: '抢接会话' },
	2001: { en: 'Official Account received a message', zh: '公众号收到消息' },
	2002: { en: 'Agent sent a message', zh: '客服发送消息' },
	2003: { en: 'Agent received a message', zh: '客服收到消息' },
};

export const UNKNOWN_OPERCODE_LABEL: OpercodeLabel = { en: 'unknown', zh: '未知' };

/** WeChat sends opercode as a number; a numeric string is read the same way. */
export function labelOpercode(opercode: unknown): OpercodeLabel {
	const code = typeof opercode === 'string' && opercode.trim() !== '' ? Number(opercode) : opercode;
	if (typeof code !== 'number' || !Number.isInteger(code)) return UNKNOWN_OPERCODE_LABEL;
	return OPERCODE_LABELS[code] ?? UNKNOWN_OPERCODE_LABEL;
}
