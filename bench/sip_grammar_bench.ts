/**
 * sip.js's parser on a sipp INVITE with its own grammar (the whole bytecode table decoded at
 * every header) and with the hoisted one (`src/sip/grammar.ts`), in one run:
 *
 *   deno bench --allow-read bench/sip_grammar_bench.ts
 *
 * @module
 */
import { Core, Grammar } from "sip.js";
import { parseSipGrammar } from "../src/sip/grammar.ts";

const INVITE = [
  "INVITE sip:+14155550199@127.0.0.1:25060 SIP/2.0",
  "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-19412-1-0",
  "From: sipp <sip:+14155550100@127.0.0.1:5061>;tag=19412SIPpTag001",
  "To: +14155550199 <sip:+14155550199@127.0.0.1:25060>",
  "Call-ID: 1-19412@127.0.0.1",
  "CSeq: 1 INVITE",
  "Contact: sip:sipp@127.0.0.1:5061",
  "Max-Forwards: 70",
  "Subject: Performance Test",
  "Content-Type: application/sdp",
  "Content-Length: 129",
  "",
  "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n",
].join("\r\n");
const logger = new Core.LoggerFactory().getLogger("bench");
const sipjsParse = Grammar.parse;

Deno.bench("parse a sipp INVITE: sip.js's grammar (bytecode decoded per parse)", {
  group: "invite",
  baseline: true,
}, () => {
  Grammar.parse = sipjsParse;
  Core.Parser.parseMessage(INVITE, logger);
});

Deno.bench("parse a sipp INVITE: hoisted grammar (src/sip/grammar.ts)", { group: "invite" }, () => {
  (Grammar as { parse: typeof parseSipGrammar }).parse = parseSipGrammar;
  Core.Parser.parseMessage(INVITE, logger);
});
