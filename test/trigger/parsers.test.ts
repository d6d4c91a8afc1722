import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { buildXml, parseXml, XmlParseError } from '../../nodes/shared/xml';
import { JsonParseError, parseStrictJson } from '../../nodes/WeChatCustomerServiceTrigger/helpers/strictJson';
import { toJson, toXml } from '../emulator/pushSender';

/** Plain copy for deepEqual (parser results have no prototype). */
const plain = (value: unknown) => JSON.parse(JSON.stringify(value));

describe('strict XML parser', () => {
	test('keeps WeChat field names and values exactly as sent (CDATA, bare numbers, whitespace, entities)', () => {
		const xml =
			'<?xml version="1.0" encoding="UTF-8"?>\n<xml><ToUserName><![CDATA[gh_1]]></ToUserName>' +
			'<FromUserName><![CDATA[o_1]]></FromUserName><CreateTime>1348831860</CreateTime>' +
			'<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[ a <b> & c ]]></Content>' +
			'<MsgId>24601234567890123456</MsgId><Note>x &lt;&amp;&gt; &#20320;&#x597D;</Note><Empty/><Empty2></Empty2></xml>';
		assert.deepEqual(plain(parseXml(xml)), {
			xml: {
				ToUserName: 'gh_1',
				FromUserName: 'o_1',
				CreateTime: '1348831860',
				MsgType: 'text',
				Content: ' a <b> & c ',
				MsgId: '24601234567890123456',
				Note: 'x <&> 你好',
				Empty: '',
				Empty2: '',
			},
		});
	});

	test('nested structures of the reference: ScanCodeInfo, SendPicsInfo/PicList/item, SendLocationInfo', () => {
		const xml = toXml({
			ToUserName: 'gh_1',
			FromUserName: 'o_1',
			CreateTime: 1408090816,
			MsgType: 'event',
			Event: 'pic_weixin',
			EventKey: '6',
			ScanCodeInfo: { ScanType: 'qrcode', ScanResult: '1' },
			SendPicsInfo: { Count: 2, PicList: { item: [{ PicMd5Sum: 'a1' }, { PicMd5Sum: 'b2' }] } },
			SendLocationInfo: { Location_X: '23', Location_Y: '113', Scale: '15', Label: ' 广州市', Poiname: '' },
		});
		const result = plain(parseXml(xml)).xml;
		assert.deepEqual(result.ScanCodeInfo, { ScanType: 'qrcode', ScanResult: '1' });
		assert.deepEqual(result.SendPicsInfo, { Count: '2', PicList: { item: [{ PicMd5Sum: 'a1' }, { PicMd5Sum: 'b2' }] } });
		assert.deepEqual(result.SendLocationInfo, {
			Location_X: '23',
			Location_Y: '113',
			Scale: '15',
			Label: ' 广州市',
			Poiname: '',
		});
	});

	test('an item list stays a list with one entry; other repeated names become arrays', () => {
		const one = plain(parseXml('<xml><PicList><item><PicMd5Sum>a</PicMd5Sum></item></PicList></xml>'));
		assert.deepEqual(one.xml.PicList.item, [{ PicMd5Sum: 'a' }]);
		const repeated = plain(parseXml('<xml><A>1</A><A>2</A><A>3</A></xml>'));
		assert.deepEqual(repeated.xml.A, ['1', '2', '3']);
	});

	test('CDATA split around "]]>" is joined back; comments and whitespace between elements are ignored', () => {
		const doc = parseXml('<!-- c -->\n<xml>\n  <A><![CDATA[x]]]]><![CDATA[>y]]></A>\n  <!-- inner -->\n</xml>\n');
		assert.deepEqual(plain(doc), { xml: { A: 'x]]>y' } });
	});

	test('results have no prototype', () => {
		const doc = parseXml('<xml><A><B>1</B></A></xml>');
		assert.equal(Object.getPrototypeOf(doc), null);
		assert.equal(Object.getPrototypeOf(doc.xml), null);
	});

	const rejected: Array<[string, string]> = [
		['DOCTYPE', '<!DOCTYPE xml [<!ELEMENT xml ANY>]><xml><A>1</A></xml>'],
		[
			'entity-expansion bomb',
			'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><xml><A>&lol2;</A></xml>',
		],
		[
			'external entity',
			'<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><Content>&xxe;</Content></xml>',
		],
		['undeclared entity', '<xml><A>&xxe;</A></xml>'],
		['bare ampersand', '<xml><A>a & b</A></xml>'],
		['__proto__ element', '<xml><__proto__><polluted>yes</polluted></__proto__></xml>'],
		['constructor element', '<xml><constructor><prototype><polluted>1</polluted></prototype></constructor></xml>'],
		['prototype element', '<xml><A><prototype>1</prototype></A></xml>'],
		['processing instruction', '<xml><?php echo 1 ?><A>1</A></xml>'],
		['mismatched tags', '<xml><A>1</B></xml>'],
		['unclosed element', '<xml><A>1</A>'],
		['two roots', '<xml><A>1</A></xml><xml><A>2</A></xml>'],
		['text after the root', '<xml><A>1</A></xml>junk'],
		['mixed content', '<xml>text<A>1</A></xml>'],
		['namespace prefix', '<xml><a:b>1</a:b></xml>'],
		['NUL character', '<xml><A>\u0000</A></xml>'],
		['character reference to NUL', '<xml><A>&#0;</A></xml>'],
		['unterminated CDATA', '<xml><A><![CDATA[x</A></xml>'],
		['empty document', ''],
		['no root', '   '],
	];
	for (const [name, xml] of rejected) {
		test(`rejects: ${name}`, () => {
			assert.throws(() => parseXml(xml), XmlParseError);
			assert.equal(({} as Record<string, unknown>).polluted, undefined);
		});
	}

	test('lone surrogates are refused, surrogate pairs (emoji) kept', () => {
		for (const text of ['\ud83d', '\ude00', 'a\ude00\ud83d', '\ud83da']) {
			assert.throws(() => parseXml(`<xml><A><![CDATA[${text}]]></A></xml>`), /lone surrogate/, JSON.stringify(text));
		}
		assert.throws(() => parseXml('<xml><A>1</A></xml>\ud83d'), /lone surrogate/);
		assert.deepEqual(plain(parseXml('<xml><A><![CDATA[\ud83d\ude00 好]]></A></xml>')), { xml: { A: '\ud83d\ude00 好' } });
	});

	test('rejects documents beyond the limits (size, depth, element count)', () => {
		const limits = { maxLength: 100, maxDepth: 3, maxElements: 5 };
		assert.throws(() => parseXml(`<xml><A>${'x'.repeat(200)}</A></xml>`, limits), /too large/);
		assert.throws(() => parseXml('<xml><a><b><c>1</c></b></a></xml>', limits), /too deep/);
		assert.throws(() => parseXml('<xml><a/><a/><a/><a/><a/></xml>', limits), /too many/);
	});

	test('a large flat document parses in linear time', () => {
		const big = `<xml>${'<A>x</A>'.repeat(1999)}</xml>`;
		const started = Date.now();
		parseXml(big);
		assert.ok(Date.now() - started < 500);
	});
});

describe('XML builder', () => {
	test('text in CDATA, numbers bare, nested objects, undefined left out, "]]>" split', () => {
		assert.equal(
			buildXml({ A: 'x]]>y', N: 1, O: { K: 'v' }, U: undefined }),
			'<xml><A><![CDATA[x]]]]><![CDATA[>y]]></A><N>1</N><O><K><![CDATA[v]]></K></O></xml>',
		);
	});

	test('round trip through the parser', () => {
		const fields = { ToUserName: 'o', CreateTime: 12, TransInfo: { KfAccount: 'a@b' } };
		assert.deepEqual(plain(parseXml(buildXml(fields))), {
			xml: { ToUserName: 'o', CreateTime: '12', TransInfo: { KfAccount: 'a@b' } },
		});
	});

	test('refuses forbidden and invalid names', () => {
		assert.throws(() => buildXml({ __proto__x: 'a', ['__proto__']: 'b' } as never), XmlParseError);
		assert.throws(() => buildXml({ 'a b': 'c' }), XmlParseError);
	});
});

describe('strict JSON parser', () => {
	test('keeps numbers as their source text (a 64-bit MsgId survives)', () => {
		const json = toJson({ CreateTime: '1714036504', MsgId: '24601234567890123456', Content: 'hi' });
		assert.match(json, /"MsgId":24601234567890123456/);
		assert.deepEqual(plain(parseStrictJson(json)), {
			CreateTime: '1714036504',
			MsgId: '24601234567890123456',
			Content: 'hi',
		});
	});

	test('strings, escapes, arrays, literals, nesting', () => {
		assert.deepEqual(plain(parseStrictJson('{"a":"x\\"\\n\\u4f60","b":[1,-2.5e3,true,false,null],"c":{"d":{}}}')), {
			a: 'x"\n你',
			b: ['1', '-2.5e3', true, false, null],
			c: { d: {} },
		});
	});

	const rejected: Array<[string, string]> = [
		['__proto__ key', '{"__proto__":{"polluted":"yes"}}'],
		['constructor key', '{"a":{"constructor":{"prototype":{"polluted":1}}}}'],
		['duplicate key', '{"Encrypt":"a","Encrypt":"b"}'],
		['trailing comma', '{"a":1,}'],
		['single quotes', "{'a':1}"],
		['trailing content', '{"a":1} x'],
		['leading zero', '{"a":01}'],
		['raw control character', '{"a":"x\ny"}'],
		['bad escape', '{"a":"\\x41"}'],
		['unterminated', '{"a":"b'],
		['nesting too deep', `${'['.repeat(40)}${']'.repeat(40)}`],
	];
	for (const [name, json] of rejected) {
		test(`rejects: ${name}`, () => {
			assert.throws(() => parseStrictJson(json), JsonParseError);
			assert.equal(({} as Record<string, unknown>).polluted, undefined);
		});
	}
});
