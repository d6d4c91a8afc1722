// The baseline library is plain JavaScript without types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const WXBizMsgCrypt = require('wechat-crypto') as new (
	token: string,
	encodingAESKey: string,
	appId: string,
) => { decrypt(text: string): { message: string; id: string } };

import { parsePushDocument, textField } from '../../nodes/WeChatCustomerServiceTrigger/helpers/parsePush';
import type { PushSettings } from '../../nodes/WeChatCustomerServiceTrigger/helpers/pushSettings';
import { receivePush } from '../../nodes/WeChatCustomerServiceTrigger/helpers/receivePush';
import { buildPush } from '../../test/emulator/pushSender';
import { detail, report, runScenario } from './scenario';

/**
 * push-decrypt: safe-mode pushes verified (signature and msg_signature, timestamp), decrypted (AES-256-CBC, PKCS#7/32,
 * length and AppID checks) and parsed per second on one core, against the npm package wechat-crypto doing decryption
 * alone plus the same parsing. Ours does more work per push (two SHA-1 signatures, the checks), which is the point:
 * verification must cost nothing a user would notice.
 */
const TOKEN = 'benchPushToken2026';
const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const APP_ID = 'wx_emulator_appid';
const DISTINCT_PUSHES = 500;
const ROUNDS = 5;
const SECONDS_PER_MEASURE = 1.5;

runScenario(async () => {
	const now = Date.now();
	const pushes = Array.from({ length: DISTINCT_PUSHES }, (_, index) =>
		buildPush({
			mode: 'safe',
			format: 'xml',
			token: TOKEN,
			appId: APP_ID,
			encodingAESKey: KEY,
			timestamp: String(Math.floor(now / 1000)),
			message: {
				ToUserName: 'gh_3c884a361561',
				FromUserName: `oUser${index}`,
				CreateTime: Math.floor(now / 1000),
				MsgType: 'text',
				Content: `您好，我想咨询一下订单 #${100000 + index} 的物流情况，谢谢！Hello, where is my order?`,
				MsgId: String(24000000000000000n + BigInt(index)),
			},
		}),
	);
	const settings: PushSettings = {
		token: TOKEN,
		appId: APP_ID,
		encodingAESKeys: [KEY],
		events: ['*'],
		reply: 'success',
		kfAccount: '',
		maxTimestampAge: 300,
		// Every push is measured many times; de-duplication would answer repeats without decrypting them.
		deduplicate: false,
		format: 'xml',
		scope: 'bench',
	};
	const baselineCrypto = new WXBizMsgCrypt(TOKEN, KEY, APP_ID);

	const ours = () => {
		for (const push of pushes) {
			const outcome = receivePush({ query: push.query, rawBody: push.body }, settings, now);
			if (!outcome.item) throw new Error(`rejected: ${outcome.body}`);
		}
	};
	const baseline = () => {
		for (const push of pushes) {
			const envelope = parsePushDocument(push.body, 'xml');
			if (!envelope.ok) throw new Error(envelope.reason);
			const { message, id } = baselineCrypto.decrypt(textField(envelope.fields, 'Encrypt') ?? '');
			if (id !== APP_ID) throw new Error('wrong AppID');
			const inner = parsePushDocument(message, 'xml');
			if (!inner.ok) throw new Error(inner.reason);
		}
	};

	const perSecond = (work: () => void): number => {
		let pushesDone = 0;
		const start = process.hrtime.bigint();
		let elapsed = 0;
		while (elapsed < SECONDS_PER_MEASURE) {
			work();
			pushesDone += DISTINCT_PUSHES;
			elapsed = Number(process.hrtime.bigint() - start) / 1e9;
		}
		return pushesDone / elapsed;
	};

	// Warm both up, then alternate so that neither profits from a quieter moment of the machine.
	perSecond(ours);
	perSecond(baseline);
	const oursRates: number[] = [];
	const baselineRates: number[] = [];
	for (let round = 0; round < ROUNDS; round++) {
		oursRates.push(perSecond(ours));
		baselineRates.push(perSecond(baseline));
	}
	const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
	const oursMedian = median(oursRates);
	const baselineMedian = median(baselineRates);
	detail(
		`push-decrypt: ours ${oursMedian.toFixed(0)}/s (verify + decrypt + parse), wechat-crypto ${baselineMedian.toFixed(0)}/s (decrypt + parse); median of ${ROUNDS}`,
	);
	report({ perSecond: Math.round(oursMedian), ratio: Number((oursMedian / baselineMedian).toFixed(2)) });
});
