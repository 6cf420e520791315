import { assertEquals, assertNotEquals } from "@std/assert";
import { Core, Grammar } from "sip.js";
import { parse as originalParse } from "sip.js/lib/grammar/pegjs/dist/grammar.js";
import { parseSipGrammar, useHoistedGrammar } from "../../src/sip/grammar.ts";
import {
  HOISTED_GRAMMAR,
  hoistGrammar,
  SIPJS_GRAMMAR,
  sipjsVersion,
} from "../../scripts/sipjs_grammar.ts";

/** sip.js's own `Grammar.parse`, on its own (per-parse decoding) grammar. */
function original(input: string, startRule: string): unknown {
  const options: { startRule: string; data?: unknown } = { startRule };
  try {
    originalParse(input, options);
  } catch {
    options.data = -1; // as sip.js's Grammar.parse does on any failure
  }
  return options.data;
}

Deno.test("sip.js grammar: the vendored file is what scripts/sipjs_grammar.ts makes of the installed sip.js", async () => {
  const expected = hoistGrammar(await Deno.readTextFile(SIPJS_GRAMMAR), await sipjsVersion());
  const actual = await Deno.readTextFile(HOISTED_GRAMMAR);
  // On a sip.js upgrade: `deno run --allow-read --allow-write scripts/sipjs_grammar.ts`.
  assertEquals(actual === expected, true, "src/sip/vendor/sipjs_grammar.js is stale");
});

/** Header values (and hostile near-misses) per start rule, as sip.js's parser meets them. */
const CORPUS: Record<string, string[]> = {
  Request_Response: [
    "INVITE sip:+14155550199@127.0.0.1:5060 SIP/2.0",
    "SIP/2.0 200 OK",
    "SIP/2.0 503 Service Unavailable",
    "BYE sip:gw@[2001:db8::1]:5060;transport=udp SIP/2.0",
    "INVITE sip:a@b SIP/3.0",
    "GARBAGE",
    "",
  ],
  Via: [
    "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1-0",
    "SIP/2.0/TCP [2001:db8::9]:5060;branch=z9hG4bKabc;rport=5060;received=192.0.2.1",
    "SIP/2.0/UDP host.example.com;branch=z9hG4bK776asdhds;maddr=224.2.0.1;ttl=16",
    "SIP/2.0/UDP",
    "SIP/2.0/UDP 300.1.1.1:99999;branch=",
  ],
  From: [
    "sipp <sip:+14155550100@127.0.0.1:5061>;tag=1SIPpTag001",
    '"Alice \\"A\\"" <sip:alice@example.com>;tag=abc',
    "sip:bob@example.com;tag=x",
    "<sip:@>",
    "<<sip:a@b>>",
  ],
  To: [
    "+14155550199 <sip:+14155550199@127.0.0.1:25060>",
    "<sip:+14155550199@127.0.0.1>;tag=as83kd",
    "<tel:+14155550199>",
  ],
  Contact: [
    "sip:sipp@127.0.0.1:5061",
    '"gw" <sip:gw@192.0.2.1:5060;transport=tcp>;expires=60;q=0.5, <sip:b@c>',
    "*",
    "<sip:a@b>;expires=abc",
  ],
  Record_Route: ["<sip:p1.example.com;lr>", "<sip:p1.example.com;lr>, <sip:p2.example.com;lr>"],
  CSeq: ["1 INVITE", "4711 BYE", "99999999999 INVITE", "INVITE 1", "1"],
  Call_ID: ["1-19412@127.0.0.1", "a84b4c76e66710@pc33.atlanta.com", "", "has space"],
  Content_Length: ["0", "142", "-1", "x"],
  Content_Type: ["application/sdp", 'multipart/mixed;boundary="b1"', "/"],
  Content_Disposition: ["session", "render;handling=optional", ""],
  Max_Forwards: ["70", "0", "256x"],
  SIP_URI: [
    "sip:+14155550100@192.0.2.1:5060",
    "sips:alice:secret@example.com;transport=tls?subject=project",
    "sip:[2001:db8::1]",
    "sip:user@host:0",
    "http://example.com",
    "sip:",
  ],
  absoluteURI: ["http://example.com/a?b=c", "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"],
  Name_Addr_Header: ['"Bob" <sip:bob@biloxi.example.com>;tag=1', "bob"],
  Event: ["refer", "dialog;id=1", ""],
  Refer_To: ["<sip:+14155550111@192.0.2.9>", "sip:carol@example.com?Replaces=abc"],
  Replaces: ["abc@host;to-tag=1;from-tag=2", "abc@host"],
  Session_Expires: ["1800;refresher=uac", "90", "x"],
  Min_SE: ["90", "-5"],
  Subscription_State: ["active;expires=60", "terminated;reason=noresource", ""],
  Supported: ["timer, 100rel", ""],
  Require: ["timer", ","],
  WWW_Authenticate: [
    'Digest realm="atlanta.com", nonce="84a4cc6f3082121f32b42a2187831a9e", algorithm=MD5, qop="auth"',
    "Basic",
  ],
  Proxy_Authenticate: ['Digest realm="x", nonce="y", stale=TRUE'],
  sipfrag: ["SIP/2.0 200 OK", "SIP/2.0 100 Trying", "nonsense"],
  uuid: ["f81d4fae-7dec-11d0-a765-00a0c91e6bf6", "not-a-uuid"],
};

Deno.test("sip.js grammar: the hoisted grammar parses every rule of a corpus exactly as sip.js's own", () => {
  let parsed = 0;
  for (const [rule, inputs] of Object.entries(CORPUS)) {
    for (const input of inputs) {
      const want = original(input, rule);
      assertEquals(parseSipGrammar(input, rule), want, `${rule}: ${JSON.stringify(input)}`);
      if (want !== -1) parsed++;
    }
  }
  assertNotEquals(parsed, 0); // the corpus is not all rejections
  // Parsing twice gives the same again (no state left between parses).
  assertEquals(
    parseSipGrammar(CORPUS.Via[1], "Via"),
    original(CORPUS.Via[1], "Via"),
  );
});

Deno.test("sip.js grammar: installed, sip.js's parser reads a whole INVITE through it, header for header", () => {
  const invite = [
    "INVITE sip:+14155550199@127.0.0.1:25060 SIP/2.0",
    "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-19412-1-0",
    "From: sipp <sip:+14155550100@127.0.0.1:5061>;tag=19412SIPpTag001",
    "To: +14155550199 <sip:+14155550199@127.0.0.1:25060>",
    "Call-ID: 1-19412@127.0.0.1",
    "CSeq: 1 INVITE",
    "Contact: sip:sipp@127.0.0.1:5061",
    "Max-Forwards: 70",
    "Content-Type: application/sdp",
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
  const logger = new Core.LoggerFactory().getLogger("test");
  const before = Core.Parser.parseMessage(invite, logger) as Core.IncomingRequestMessage;
  useHoistedGrammar();
  useHoistedGrammar(); // twice: a no-op
  assertEquals(Grammar.parse, parseSipGrammar);
  const after = Core.Parser.parseMessage(invite, logger) as Core.IncomingRequestMessage;
  assertEquals(after.ruri?.toString(), before.ruri?.toString());
  assertEquals(after.from.uri.user, "+14155550100");
  assertEquals(after.fromTag, before.fromTag);
  assertEquals(after.cseq, 1);
  assertEquals(after.callId, before.callId);
  assertEquals(after.via, before.via);
  assertEquals(after.getHeader("Contact"), before.getHeader("Contact"));
});
