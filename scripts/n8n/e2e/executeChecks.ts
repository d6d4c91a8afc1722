/**
 * The checks that run workflows through `n8n execute`: a positive control of the loopback guard, every resource of
 * the node, the shipped examples (headless copies of the trigger-started ones), a WeChat error, a credential field
 * mapped from the item, a revoked token. Each asserts what n8n produced and what reached "WeChat" (the emulator's
 * request log).
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';

import { setAssignment } from '../lib/fixtures';
import { readGuardLog } from '../lib/loopbackGuard';
import { fetchWithTimeout } from '../lib/waits';
import { type E2eRun, errcode, isToken, succeeded } from './e2eRun';
import {
	ARCHIVE_MEDIA,
	BULK_YESTERDAY,
	boundaryRecords,
	F,
	JPEG,
	NEW_ACCOUNT,
	UNKNOWN_APPID,
	WAITING,
} from './testData';

/**
 * Takes a user off the waiting queue as the Session check does (to Bob, its least-loaded agent), through WeChat's API,
 * so that the alert check finds the queue it expects also when run alone. After the Session check this changes
 * nothing: WeChat answers 0 for a session that already exists.
 */
async function takeOffWaitingQueue(e2e: E2eRun, openid: string): Promise<void> {
	const { baseUrl, appId: appid, appSecret: secret } = e2e.wechat;
	const post = async (route: string, body: unknown) =>
		(await (await fetchWithTimeout(`${baseUrl}${route}`, { method: 'POST', body: JSON.stringify(body) })).json()) as {
			access_token?: string;
		};
	e2e.ownTokenCalls += 1;
	const token = await post('/cgi-bin/stable_token', { grant_type: 'client_credential', appid, secret });
	await post(`/customservice/kfsession/create?access_token=${token.access_token}`, {
		kf_account: 'bob@emulator_oa',
		openid,
	});
}

export function executeChecks(e2e: E2eRun): void {
	// --- Loopback guard: a positive control first, so that "zero recorded" later means something.
	e2e.check(
		'loopback guard: a deliberate request from a workflow to a non-loopback address is recorded and refused',
		async () => {
			const output = await e2e.n8n.execute('e2eGuardControl');
			const [item] = output.items('Request Outside');
			const { attempts: recorded, guardedPids } = await readGuardLog(e2e.n8n.netLogFile);
			e2e.controlEntries = recorded.length;
			assert.ok(
				recorded.some((entry) => entry.target.includes(':9') || entry.target.includes('guard-control')),
				`nothing recorded: ${JSON.stringify(recorded)}`,
			);
			assert.match(JSON.stringify(item ?? {}), /e2e loopback guard/, 'the request was not refused by the guard');
			assert.ok(guardedPids.length >= 2, 'the guard was not loaded into the n8n processes');
		},
	);

	// --- Account
	e2e.check('Account: create, update, invite, set avatar from binary, get many, get online, delete', async () => {
		const { output, calls } = await e2e.executeLogged('e2eAccount');
		succeeded(output, 'the account workflow');
		assert.deepEqual(output.items('Create'), [{ kf_account: NEW_ACCOUNT, nickname: 'E2E 客服', created: true }]);
		const listed = output.items('Get Many').find((item) => item.kf_account === NEW_ACCOUNT);
		assert.ok(listed, 'the new account is not in Get Many');
		assert.equal(listed.kf_nick, 'E2E Agent');
		assert.equal(listed.invite_wx, 'e2e_worker_01');
		assert.deepEqual(
			output
				.items('Get Online')
				.map((item) => item.kf_account)
				.sort(),
			['alice@emulator_oa', 'bob@emulator_oa'],
		);
		const api = calls.filter((call) => !isToken(call));
		assert.deepEqual(
			api.map((call) => call.path),
			[
				'/customservice/kfaccount/add',
				'/customservice/kfaccount/update',
				'/customservice/kfaccount/inviteworker',
				'/customservice/kfaccount/uploadheadimg',
				'/cgi-bin/customservice/getkflist',
				'/cgi-bin/customservice/getonlinekflist',
				'/customservice/kfaccount/del',
			],
		);
		assert.deepEqual(api[0].json, { kf_account: NEW_ACCOUNT, nickname: 'E2E 客服' });
		assert.deepEqual(api[2].json, { kf_account: NEW_ACCOUNT, invite_wx: 'e2e_worker_01' });
		assert.equal(api[3].query.kf_account, NEW_ACCOUNT);
		assert.equal(api[3].multipart?.files[0]?.size, JPEG.length);
		for (const call of api)
			assert.equal(errcode(call) ?? 0, 0, `${call.path} answered ${JSON.stringify(call.response.body)}`);
		assert.equal(calls.filter(isToken).length, 1, 'expected exactly one token call for a fresh credential');
	});

	// --- Message
	e2e.check('Message: typing, text as an agent, image uploaded from binary, news, menu', async () => {
		await e2e.wechat.admin('user-message', { openid: F[3] });
		const { output, calls } = await e2e.executeLogged('e2eMessage');
		succeeded(output, 'the message workflow');
		const sends = calls.filter((call) => call.path === '/cgi-bin/message/custom/send');
		assert.equal(sends.length, 4);
		assert.deepEqual(sends[0].json, {
			touser: F[3],
			msgtype: 'text',
			text: { content: '你好 from the real n8n ✓' },
			customservice: { kf_account: 'alice@emulator_oa' },
		});
		const upload = calls.find((call) => call.path === '/cgi-bin/media/upload');
		assert.ok(upload, 'no media upload');
		assert.equal(upload.query.type, 'image');
		assert.equal(upload.multipart?.files[0]?.size, JPEG.length);
		const mediaId = (upload.response.body as { media_id: string }).media_id;
		assert.deepEqual(sends[1].json, { touser: F[3], msgtype: 'image', image: { media_id: mediaId } });
		assert.equal(output.items('Send Image')[0]?.media_id, mediaId);
		assert.deepEqual(sends[2].json, {
			touser: F[3],
			msgtype: 'news',
			news: {
				articles: [
					{
						title: 'Order shipped',
						description: 'Tap for tracking',
						url: 'https://example.com/track/1',
						picurl: 'https://example.com/p.jpg',
					},
				],
			},
		});
		assert.deepEqual((sends[3].json as { msgmenu: unknown }).msgmenu, {
			head_content: 'Satisfied?',
			list: [
				{ id: '101', content: 'Yes' },
				{ id: '102', content: 'No' },
			],
			tail_content: 'Thanks',
		});
		const typing = calls.find((call) => call.path === '/cgi-bin/message/custom/typing');
		assert.deepEqual(typing?.json, { touser: F[3], command: 'Typing' });
		for (const call of calls)
			assert.equal(errcode(call) ?? 0, 0, `${call.path} answered ${JSON.stringify(call.response.body)}`);
	});

	// --- Session
	e2e.check(
		'Session: offline agent refused (65415), create, get, get many, least-loaded create, close, get waiting',
		async () => {
			const { output, calls } = await e2e.executeLogged('e2eSession');
			succeeded(output, 'the session workflow');
			assert.equal(output.items('Create').length, 1, 'the refused create should continue with one item');
			assert.deepEqual(output.items('Create With Alice'), [
				{ kf_account: 'alice@emulator_oa', openid: F[4], created: true },
			]);
			const [session] = output.items('Get');
			assert.equal(session.kf_account, 'alice@emulator_oa');
			assert.equal(session.inSession, true);
			assert.ok(
				output.items('Get Many').some((item) => item.openid === F[4] && item.kf_account === 'alice@emulator_oa'),
			);
			const [leastLoaded] = output.items('Create Least Loaded');
			// Alice served 2 + F[4] = 3, Bob 1: Bob is the least loaded.
			assert.equal(leastLoaded.kf_account, 'bob@emulator_oa');
			assert.equal(leastLoaded.selectedBy, 'leastLoaded');
			assert.deepEqual(output.items('Close')[0], { kf_account: 'alice@emulator_oa', openid: F[4], closed: true });
			const waiting = output.items('Get Waiting');
			assert.deepEqual(
				waiting.map((item) => item.openid),
				WAITING.slice(1),
			);
			assert.ok(waiting.every((item) => item.count === 3));
			const creates = calls.filter((call) => call.path === '/customservice/kfsession/create');
			assert.equal(errcode(creates[0]), 65415, 'an offline agent should be refused with 65415');
			assert.deepEqual(
				creates.map((call) => call.json),
				[
					{ kf_account: 'carol@emulator_oa', openid: F[4] },
					{ kf_account: 'alice@emulator_oa', openid: F[4] },
					{ kf_account: 'bob@emulator_oa', openid: WAITING[0] },
				],
			);
		},
	);

	// --- ChatRecord
	e2e.check(
		`ChatRecord: any range in 24-hour windows with msgid paging (${BULK_YESTERDAY + 5} records), limit stops early`,
		async () => {
			const { output, calls } = await e2e.executeLogged('e2eChatRecord');
			succeeded(output, 'the chat-record workflow');
			const all = output.items('Get Many All');
			assert.equal(all.length, BULK_YESTERDAY + boundaryRecords(e2e.days).length);
			const times = all.map((item) => Number(item.time));
			assert.ok(
				times.every((time, i) => i === 0 || times[i - 1] <= time),
				'records are not in time order',
			);
			assert.equal(all[0].text, 'before yesterday');
			assert.equal(all[all.length - 1].text, 'first second of today');
			assert.ok(all.every((item) => typeof item.opercodeLabel === 'string'));
			const pages = calls.filter((call) => call.path === '/customservice/msgrecord/getmsglist');
			for (const page of pages) {
				const body = page.json as { starttime: number; endtime: number; number: number; msgid: number };
				assert.ok(body.endtime - body.starttime <= 86400, `a query spans ${body.endtime - body.starttime} s`);
				assert.ok(body.number >= 1 && body.number <= 10000);
				assert.equal(errcode(page) ?? 0, 0);
			}
			assert.ok(
				pages.some((page) => (page.json as { msgid: number }).msgid > 1),
				'no msgid paging happened',
			);
			assert.equal(output.items('Get Many Limit').length, 25);
		},
	);

	// --- The examples, headless
	e2e.check('example nightly-export.json (first run): since yesterday 00:00 up to last midnight, Beijing time, every record, CSV on disk', async () => {
		const { day, yesterdayStart, todayStart } = e2e.days;
		const { output } = await e2e.executeLogged(e2e.examples['nightly-export'].id);
		succeeded(output, 'nightly export');
		const records = output.items('Get New Chat Records');
		assert.equal(records.length, BULK_YESTERDAY + 3);
		assert.deepEqual(records[0].exportRange, {
			start: new Date(yesterdayStart * 1000).toISOString(),
			end: new Date(todayStart * 1000).toISOString(),
			startedFrom: 'firstRunStart',
			caughtUp: true,
			cursorMoved: true,
		});
		const written = output.items('Write CSV to Disk')[0] as { fileName: string };
		assert.equal(written.fileName, path.join(e2e.n8n.filesDir, `wechat-chat-records-${day}_${day}.csv`));
		const csv = (await fs.readFile(written.fileName, 'utf8')).trim().split('\n');
		assert.equal(csv.length, BULK_YESTERDAY + 3 + 1);
		assert.match(csv[0], /openid/);
		assert.match(csv[1], /first second of yesterday/);
		assert.match(csv[csv.length - 1], /last second of yesterday/);
		assert.ok(
			csv.some((line) => line.includes('"noon, ""quoted"", with a comma"')),
			'CSV quoting',
		);
	});

	e2e.check('example archive-user-media.json (headless): an image and a voice note downloaded by Get Media and written to disk', async () => {
		const image = Buffer.concat([JPEG, Buffer.from('e2e image')]);
		const voice = Buffer.from('#!AMR\ne2e voice note', 'latin1');
		await e2e.wechat.admin('seed', {
			media: [
				{ type: 'image', media_id: ARCHIVE_MEDIA.image, filename: 'p.jpg', contentType: 'image/jpeg', dataBase64: image.toString('base64') },
				{ type: 'voice', media_id: ARCHIVE_MEDIA.voice, filename: 'v.amr', contentType: 'audio/amr', dataBase64: voice.toString('base64') },
			],
		});
		for (const [kind, bytes, extension] of [
			['image', image, 'jpg'],
			['voice', voice, 'amr'],
		] as const) {
			const headless = kind === 'image' ? e2e.workflows.archiveImageHeadless : e2e.workflows.archiveVoiceHeadless;
			const { output, calls } = await e2e.executeLogged(headless.id);
			succeeded(output, `the media archive (${kind})`);
			const gets = calls.filter((call) => call.path === '/cgi-bin/media/get');
			assert.equal(gets.length, 1);
			assert.equal(gets[0].method, 'GET');
			assert.equal(gets[0].query.media_id, ARCHIVE_MEDIA[kind]);
			assert.deepEqual(output.items('Get Media')[0], {
				mediaId: ARCHIVE_MEDIA[kind],
				fileName: `${ARCHIVE_MEDIA[kind]}.${extension}`,
				mimeType: kind === 'image' ? 'image/jpeg' : 'audio/amr',
				fileSize: bytes.length,
				video: false,
			});
			const fileName = path.join(
				e2e.n8n.filesDir,
				`wechat-${kind}-${F[4]}-1764150000-${ARCHIVE_MEDIA[kind]}.${extension}`,
			);
			assert.deepEqual(await fs.readFile(fileName), bytes);
		}
	});

	e2e.check(
		'example waiting-queue-alert.json (Run Now): 3 waiting > threshold 2 → one POST to the group bot',
		async () => {
			await takeOffWaitingQueue(e2e, WAITING[0]);
			// The same workflow with a lower threshold (the session check above took one user off the queue).
			const alert = structuredClone(e2e.examples['waiting-queue-alert']);
			setAssignment(alert, 'Alert Settings', 'threshold', 2);
			alert.id = 'e2eQueueAlert';
			await e2e.n8n.importWorkflows([alert]);
			e2e.groupBot.requests.length = 0;
			const { output } = await e2e.executeLogged('e2eQueueAlert');
			succeeded(output, 'the waiting-queue alert');
			assert.equal(e2e.groupBot.requests.length, 1);
			const [request] = e2e.groupBot.requests;
			assert.equal(request.method, 'POST');
			assert.equal(request.path, '/cgi-bin/webhook/send?key=e2e');
			const body = JSON.parse(request.body) as { msgtype: string; text: { content: string } };
			assert.equal(body.msgtype, 'text');
			assert.match(body.text.content, /3 users are waiting/);
			// The shipped threshold (3) does not fire for 3 users.
			e2e.groupBot.requests.length = 0;
			const again = await e2e.n8n.execute(e2e.examples['waiting-queue-alert'].id);
			succeeded(again, 'the waiting-queue alert with threshold 3');
			assert.equal(e2e.groupBot.requests.length, 0);
		},
	);

	e2e.check(
		'example escalation.json, headless copy (Manual Trigger + sample push): "转人工" → least-loaded agent',
		async () => {
			await e2e.wechat.admin('user-message', { openid: F[5] });
			const { output, calls } = await e2e.executeLogged('e2eEscalationHeadless');
			succeeded(output, 'the headless escalation');
			const online = calls.find((call) => call.path === '/cgi-bin/customservice/getonlinekflist');
			const loads = (online?.response.body as { kf_online_list: Array<{ kf_account: string; accepted_case: number }> })
				.kf_online_list;
			const least = [...loads].sort((a, b) => a.accepted_case - b.accepted_case)[0].kf_account;
			const create = calls.find((call) => call.path === '/customservice/kfsession/create');
			assert.deepEqual(create?.json, { kf_account: least, openid: F[5] });
			const told = calls.filter((call) => call.path === '/cgi-bin/message/custom/send');
			assert.equal(told.length, 1);
			assert.equal((told[0].json as { customservice?: { kf_account: string } }).customservice?.kf_account, least);
			assert.equal(output.ran('Automatic Answer'), false);
		},
	);

	e2e.check(
		'example welcome.json, headless copy: welcome text, then an image downloaded by HTTP Request and sent from binary',
		async () => {
			await e2e.wechat.admin('user-message', { openid: F[6] });
			const { output, calls } = await e2e.executeLogged('e2eWelcomeHeadless');
			succeeded(output, 'the headless welcome');
			const sends = calls.filter((call) => call.path === '/cgi-bin/message/custom/send');
			assert.deepEqual(
				sends.map((call) => (call.json as { msgtype: string }).msgtype),
				['text', 'image'],
			);
			assert.match((sends[0].json as { text: { content: string } }).text.content, /感谢关注/);
			const upload = calls.find((call) => call.path === '/cgi-bin/media/upload');
			assert.equal(upload?.multipart?.files[0]?.filename, 'welcome.jpg');
			assert.equal(upload?.multipart?.files[0]?.size, JPEG.length);
			assert.equal(
				(sends[1].json as { image: { media_id: string } }).image.media_id,
				(upload?.response.body as { media_id: string }).media_id,
			);
		},
	);

	e2e.check(
		"a WeChat error fails the execution with the node named and WeChat's code in the message (40003)",
		async () => {
			const { output, calls } = await e2e.executeLogged('e2eWeChatError');
			assert.ok(output.error, 'the execution should have failed');
			assert.equal(output.error.node, 'Send To Stranger');
			assert.match(output.error.message, /40003/);
			const sends = calls.filter((call) => call.path === '/cgi-bin/message/custom/send');
			assert.equal(sends.length, 1, 'a WeChat error that is not about the token must not be retried');
			assert.equal(errcode(sends[0]), 40003);
		},
	);

	e2e.check(
		'token revoked between executions: the next workflow still succeeds, with one token call and one retry',
		async () => {
			await e2e.ensureN8nHoldsToken(async () =>
				succeeded(await e2e.n8n.execute('e2eTokenRevoked'), 'obtaining a token'),
			);
			await e2e.wechat.admin('revoke-token', {});
			const { output, calls } = await e2e.executeLogged('e2eTokenRevoked');
			succeeded(output, 'the workflow after the token was revoked');
			assert.ok(output.items('Get Many').length >= 3);
			const lists = calls.filter((call) => call.path === '/cgi-bin/customservice/getkflist');
			assert.equal(lists.length, 2, `expected a rejected call and one retry, got ${lists.length}`);
			assert.equal(errcode(lists[0]), 40001);
			assert.equal(errcode(lists[1]) ?? 0, 0);
			assert.equal(calls.filter(isToken).length, 1);
		},
	);

	e2e.check("n8n's HTTP Request node sends with the WeChat credential (Predefined Credential Type)", async () => {
		for (const openid of [F[2], F[3]]) await e2e.wechat.admin('user-message', { openid });
		const { output, calls } = await e2e.executeLogged('e2eHttpRequestNode');
		succeeded(output, "the HTTP Request node's sends");
		assert.deepEqual(
			output.items('HTTP Request').map((json) => json.errcode),
			[0, 0],
		);
		const sends = calls.filter((call) => call.path === '/cgi-bin/message/custom/send');
		assert.deepEqual(
			sends.map((call) => call.json).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
			[F[2], F[3]].map((touser) => ({ touser, msgtype: 'text', text: { content: 'from the HTTP Request node' } })),
		);
		assert.ok(sends.every((call) => typeof call.query.access_token === 'string' && (errcode(call) ?? 0) === 0));
		assert.ok(!JSON.stringify(output.raw).includes(e2e.wechat.appSecret), 'the AppSecret reached the run data');
	});

	e2e.check('Options → Same Credential for Every Item: three sends through one read of the credential', async () => {
		for (const openid of [F[2], F[3], F[4]]) await e2e.wechat.admin('user-message', { openid });
		const { output, calls } = await e2e.executeLogged('e2eSameCredential');
		succeeded(output, 'the send with Same Credential for Every Item');
		assert.deepEqual(output.items('Send Sharing The Credential'), [F[2], F[3], F[4]].map((touser) => ({
			touser,
			msgtype: 'text',
			sent: true,
		})));
		const sends = calls.filter((call) => call.path === '/cgi-bin/message/custom/send');
		assert.deepEqual(
			sends.map((call) => (call.json as { touser: string }).touser).sort(),
			[F[2], F[3], F[4]].sort(),
		);
		assert.equal(new Set(sends.map((call) => call.query.access_token)).size, 1, 'one token for the run');
		assert.ok(sends.every((call) => (call.response.body as { errcode?: number }).errcode === 0));
	});

	// Why the node does not read its credential once per run and share it with the run's items (BENCHMARKS.md,
	// bulk-send-n8n): n8n resolves a credential's expressions for each item, so each item may stand for another account.
	e2e.check(
		'a credential field mapped from the item ({{ $json.appid }}) is resolved for each item: two items, two accounts',
		async () => {
			await e2e.wechat.admin('user-message', { openid: F[3] });
			const { output, calls } = await e2e.executeLogged('e2eCredentialPerItem');
			const tokenCalls = calls.filter(isToken);
			e2e.ownTokenCalls += tokenCalls.length; // none of them is the shared credential's
			succeeded(output, 'the workflow with a credential per item');
			const [first, second, ...rest] = output.items('Send Per Account');
			assert.deepEqual(first, { touser: F[3], msgtype: 'text', sent: true });
			assert.match(String(second?.error), /40013/, `the second item must fail on its own AppID: ${JSON.stringify(second)}`);
			assert.equal(rest.length, 0);
			assert.ok(!JSON.stringify([first, second]).includes(e2e.wechat.appSecret), 'the AppSecret reached the output');
			const tokenAppIds = tokenCalls.map((call) => (call.json as { appid?: string }).appid);
			assert.deepEqual([...new Set(tokenAppIds)].sort(), [e2e.wechat.appId, UNKNOWN_APPID].sort());
			const sends = calls.filter((call) => call.path === '/cgi-bin/message/custom/send');
			assert.deepEqual(
				sends.map((call) => call.json),
				[{ touser: F[3], msgtype: 'text', text: { content: 'per item' } }],
			);
		},
	);
}
