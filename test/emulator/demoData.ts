/**
 * A believable small Official Account for manual runs and end-to-end scripts: four kf accounts (two online serving
 * users, one offline, one waiting for its worker to accept an invitation), 20 followers who wrote recently plus one
 * outside the 48-hour window and one who unsubscribed, a waiting queue, an uploaded image, and a week of chat records
 * with busy and quiet days. Deterministic, so printed ids stay the same between runs.
 */
import type { EmulatorState } from './state';
import { HOUR, MINUTE, makeOpenid, seededRandom } from './state';

export interface DemoData {
	kfAccounts: string[];
	recentFollowers: string[];
	staleFollower: string;
	unsubscribedFollower: string;
	waiting: string[];
	imageMediaId: string;
	thumbMediaId: string;
	/** A follower's voice note and video, as WeChat keeps what users send (media/get serves them). */
	voiceMediaId: string;
	videoMediaId: string;
	chatRecordsPerDay: number[];
}

/** Smallest valid JPEG-looking payloads; WeChat checks the extension, the emulator stores the bytes. */
const TINY_JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex');
/** The AMR magic number and one silent frame. */
const TINY_AMR = Buffer.concat([Buffer.from('#!AMR\n', 'latin1'), Buffer.from('3c48f55f', 'hex')]);
/** An MP4 `ftyp` box, enough for a file to be recognised as MP4. */
const TINY_MP4 = Buffer.from('000000186674797069736f6d0000020069736f6d6d703431', 'hex');

export function seedDemoData(state: EmulatorState): DemoData {
	const random = seededRandom(20240601);
	const now = state.now();
	const nowS = Math.floor(now / 1000);

	state.addKfAccount({ kf_account: 'alice@emulator_oa', kf_nick: 'Alice', kf_wx: 'alice_worker', online: true });
	state.addKfAccount({ kf_account: 'bob@emulator_oa', kf_nick: 'Bob 客服', kf_wx: 'bob_worker', online: true });
	state.addKfAccount({ kf_account: 'carol@emulator_oa', kf_nick: 'Carol', kf_wx: 'carol_worker', online: false });
	state.addKfAccount({ kf_account: 'dave@emulator_oa', kf_nick: 'Dave', invite_wx: 'dave_wechat' });

	const recentFollowers: string[] = [];
	for (let i = 0; i < 20; i++) {
		const openid = makeOpenid(random);
		state.addFollower(openid, { lastInteractionAt: now - Math.floor(random() * 40 * HOUR) });
		recentFollowers.push(openid);
	}
	const staleFollower = makeOpenid(random);
	state.addFollower(staleFollower, { lastInteractionAt: now - 72 * HOUR });
	const unsubscribedFollower = makeOpenid(random);
	state.addFollower(unsubscribedFollower, { lastInteractionAt: now - HOUR, subscribed: false });

	// Sessions make accepted_case consistent with getsessionlist: Alice serves 2, Bob 1.
	state.openSession('alice@emulator_oa', recentFollowers[0], nowS - 1200);
	state.openSession('alice@emulator_oa', recentFollowers[1], nowS - 300);
	state.openSession('bob@emulator_oa', recentFollowers[2], nowS - 60);

	const waiting = recentFollowers.slice(3, 7);
	waiting.forEach((openid, i) => state.addWaiting(openid, nowS - (waiting.length - i) * (MINUTE / 1000) * 3));

	const image = state.addMedia({ type: 'image', data: TINY_JPEG, filename: 'demo.jpg', contentType: 'image/jpeg' });
	const thumb = state.addMedia({ type: 'thumb', data: TINY_JPEG, filename: 'thumb.jpg', contentType: 'image/jpeg' });
	const voice = state.addMedia({ type: 'voice', data: TINY_AMR, filename: 'voice.amr', contentType: 'audio/amr' });
	const video = state.addMedia({ type: 'video', data: TINY_MP4, filename: 'video.mp4', contentType: 'video/mp4' });

	const { perDay } = state.seedChatRecords({
		start: nowS - 7 * 86400 + 1,
		end: nowS,
		count: 2400,
		distribution: [3, 5, 1, 0.2, 4, 6, 2],
		openids: recentFollowers,
		workers: ['alice@emulator_oa', 'bob@emulator_oa', 'carol@emulator_oa'],
		seed: 7,
	});

	return {
		kfAccounts: [...state.kfAccounts.keys()],
		recentFollowers,
		staleFollower,
		unsubscribedFollower,
		waiting,
		imageMediaId: image.media_id,
		thumbMediaId: thumb.media_id,
		voiceMediaId: voice.media_id,
		videoMediaId: video.media_id,
		chatRecordsPerDay: perDay,
	};
}
