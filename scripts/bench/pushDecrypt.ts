// The baseline library is plain JavaScript without types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const WXBizMsgCrypt = require('wechat-crypto') as new (
	token: string,
	encodingAESKey: string,
	appId: string,
) => {
	getSignature(timestamp: string, nonce: string, encrypt: string): string;
	decrypt(text: string): { message: string; id: string };
};

import path from 'node:path';

import { buildPush } from '../../test/emulator/pushSender';
import { detail, report, runScenario } from './scenario';

// The trigger's code as n8n runs it: the JavaScript `npm run build` wrote (bench.ts builds first), not the TypeScript
// sources through tsx, whose helper wraps every function defined inside another and costs about a microsecond a push.
const shipped = (name: string): unknown =>
	require(path.resolve(__dirname, '../../dist/nodes/WeChatCustomerServiceTrigger/helpers', name));
const { clearDeduplicationStore } =
	shipped('deduplicate') as typeof import('../../nodes/WeChatCustomerServiceTrigger/helpers/deduplicate');
const { parsePushDocument, textField } =
	shipped('parsePush') as typeof import('../../nodes/WeChatCustomerServiceTrigger/helpers/parsePush');
const { readPushSettings } =
	shipped('pushSettings') as typeof import('../../nodes/WeChatCustomerServiceTrigger/helpers/pushSettings');
const { receivePush } =
	shipped('receivePush') as typeof import('../../nodes/WeChatCustomerServiceTrigger/helpers/receivePush');

/**
 * push-decrypt: safe-mode pushes verified, decrypted and parsed per second on one core, by the trigger's own request
 * handling (`receivePush`) against the npm package wechat-crypto doing the same work: both signatures, both
 * comparisons, the timestamp window, decryption, the AppID comparison and the same two parses. Needs `npm run build`.
 *
 * Every push measured is one the trigger has not seen: the trigger answers a (timestamp, nonce) it has already seen
 * from memory, without decrypting. So each pass over the distinct pushes starts with an empty store, and the baseline
 * makes the same passes over the same pushes.
 */
const TOKEN = 'benchPushToken2026';
const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const APP_ID = 'wx_emulator_appid';
const MAX_TIMESTAMP_AGE = 300;
const DISTINCT_PUSHES = 500;
const ROUNDS = 11;
const SECONDS_PER_MEASURE = 0.6;

interface BenchPush {
	query: Record<string, string>;
	/** What n8n hands the trigger as `request.rawBody`. */
	rawBody: Buffer;
}

runScenario(async () => {
	const now = Date.now();
	const nowSeconds = Math.floor(now / 1000);
	const pushes: BenchPush[] = Array.from({ length: DISTINCT_PUSHES }, (_, index) => {
		const built = buildPush({
			mode: 'safe',
			format: 'xml',
			token: TOKEN,
			appId: APP_ID,
			encodingAESKey: KEY,
			timestamp: String(nowSeconds),
			// Distinct for every push, so that no (timestamp, nonce) repeats within a pass.
			nonce: String(1_000_000_000 + index),
			message: {
				ToUserName: 'gh_3c884a361561',
				FromUserName: `oUser${index}`,
				CreateTime: nowSeconds,
				MsgType: 'text',
				Content: `您好，我想咨询一下订单 #${100000 + index} 的物流情况，谢谢！Hello, where is my order?`,
				MsgId: String(24000000000000000n + BigInt(index)),
			},
		});
		return { query: built.query, rawBody: Buffer.from(built.body, 'utf8') };
	});
	// The trigger's settings as the node builds them, so that settings added later get their defaults here too.
	const settings = readPushSettings(
		{ token: TOKEN, encodingAESKey: KEY, appId: APP_ID },
		{ events: ['*'], reply: 'success', kfAccount: '', options: { deduplicate: false } },
		'bench',
	);
	const baselineCrypto = new WXBizMsgCrypt(TOKEN, KEY, APP_ID);

	const ours = () => {
		// The pass replays the same (timestamp, nonce) pairs as the previous one: forget them first.
		clearDeduplicationStore();
		for (const push of pushes) {
			const outcome = receivePush({ query: push.query, rawBody: push.rawBody }, settings, now);
			if (!outcome.item) throw new Error(`ours rejected a valid push: ${outcome.status} ${outcome.body}`);
		}
	};
	const baseline = () => {
		for (const push of pushes) {
			const { signature, timestamp, nonce, msg_signature: msgSignature } = push.query;
			// wechat-crypto's getSignature sorts [token, timestamp, nonce, encrypt] and hashes them joined. With an empty
			// `encrypt` it sorts first and adds nothing, so the result is the URL `signature` over token, timestamp, nonce.
			if (baselineCrypto.getSignature(timestamp, nonce, '') !== signature) throw new Error('signature invalid');
			if (!(Math.abs(nowSeconds - Number(timestamp)) <= MAX_TIMESTAMP_AGE)) throw new Error('timestamp too old');
			const envelope = parsePushDocument(push.rawBody.toString('utf8'), 'xml');
			if (!envelope.ok) throw new Error(envelope.reason);
			const encrypt = textField(envelope.fields, 'Encrypt') ?? '';
			if (baselineCrypto.getSignature(timestamp, nonce, encrypt) !== msgSignature) {
				throw new Error('msg_signature invalid');
			}
			const { message, id } = baselineCrypto.decrypt(encrypt);
			if (id !== APP_ID) throw new Error('wrong AppID');
			const inner = parsePushDocument(message, 'xml');
			if (!inner.ok) throw new Error(inner.reason);
		}
	};

	// Pushes per second of this process's CPU time (user + system), not of the clock: on a machine shared with other
	// work the clock also counts the time the process waited for a core, which neither side should be charged for.
	// On an idle machine the two agree.
	const cpuSeconds = () => {
		const { user, system } = process.cpuUsage();
		return (user + system) / 1e6;
	};
	// The clock's figure is kept beside it for the detail line.
	const wallRates = new Map<() => void, number[]>();
	const perSecond = (work: () => void): number => {
		let pushesDone = 0;
		const start = cpuSeconds();
		const wallStart = process.hrtime.bigint();
		let elapsed = 0;
		while (elapsed < SECONDS_PER_MEASURE) {
			work();
			pushesDone += DISTINCT_PUSHES;
			elapsed = cpuSeconds() - start;
		}
		const wall = Number(process.hrtime.bigint() - wallStart) / 1e9;
		wallRates.set(work, [...(wallRates.get(work) ?? []), pushesDone / wall]);
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
	// Each round of ours is compared with the baseline round right after it, which ran under the same conditions; on a
	// machine shared with other work that pairing matters more than the number of rounds.
	const pairRatios = oursRates.map((rate, round) => rate / baselineRates[round]);
	// The same rounds by the clock (the warm-up rounds left out).
	const oursWall = (wallRates.get(ours) ?? []).slice(1);
	const baselineWall = (wallRates.get(baseline) ?? []).slice(1);
	const wallRatio = median(oursWall.map((rate, round) => rate / baselineWall[round]));
	detail(
		`push-decrypt: ours ${oursMedian.toFixed(0)}/s, wechat-crypto ${baselineMedian.toFixed(0)}/s (both: two signatures, timestamp, decrypt, AppID, two parses); ${ROUNDS} alternated rounds of ${SECONDS_PER_MEASURE} s, ${DISTINCT_PUSHES} distinct pushes a pass; round ratios ${[...pairRatios].sort((a, b) => a - b).map((r) => r.toFixed(2)).join(' ')}; by the clock instead of CPU time: ours ${median(oursWall).toFixed(0)}/s, wechat-crypto ${median(baselineWall).toFixed(0)}/s, ratio ${wallRatio.toFixed(2)}`,
	);
	report({ perSecond: Math.round(oursMedian), ratio: Number(median(pairRatios).toFixed(2)) });
});
