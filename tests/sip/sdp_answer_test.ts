/**
 * The SDP answer a real sipp gets (issue 15): telephone-event's events repeat what the offer
 * listed (RFC 4733 §2.4.1), and an Opus offer gets telephone-event back at the rate it
 * offered. Each case is a sipp call whose scenario fails unless the 200 OK's SDP matches.
 */
import { assertEquals } from "@std/assert";
import { callerArgs, haveSipp, sipp, startGateway, waitForStatus } from "./_harness.ts";

/** A sipp UAC scenario offering `media` and failing the call unless the answer matches `expect` (POSIX regexps). */
function scenario(media: string[], expect: string[]): string {
  const checks = expect.map((re, i) =>
    `<ereg regexp="${re}" search_in="body" check_it="true" assign_to="m${i}"/>`
  ).join("\n        ");
  const header = (method: string, cseq: number) =>
    `${method} sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:+14155550100@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>${
      method === "INVITE" ? "" : "[peer_tag_param]"
    }
      Call-ID: [call_id]
      CSeq: ${cseq} ${method}
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70`;
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="SDP answer check">
  <send retrans="500"><![CDATA[

      ${header("INVITE", 1)}
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[local_ip_type] [local_ip]
      t=0 0
      ${media.join("\n      ")}

  ]]></send>
  <recv response="100" optional="true"></recv>
  <recv response="180" optional="true"></recv>
  <recv response="200">
    <action>
        ${checks}
    </action>
  </recv>
  <send><![CDATA[

      ${header("ACK", 1)}
      Content-Length: 0

  ]]></send>
  <send retrans="500"><![CDATA[

      ${header("BYE", 2)}
      Content-Length: 0

  ]]></send>
  <recv response="200"></recv>
  <Reference variables="${expect.map((_, i) => `m${i}`).join(",")}"/>
</scenario>
`;
}

async function answerMatches(media: string[], expect: string[]): Promise<void> {
  await using fx = await startGateway();
  const file = await Deno.makeTempFile({ suffix: ".xml" });
  try {
    await Deno.writeTextFile(file, scenario(media, expect));
    const result = await sipp(callerArgs(fx.port, ["-sf", file]));
    assertEquals(result.code, 0, result.stdout.slice(-1500) + result.stderr.slice(-1500));
    await waitForStatus(fx, "completed");
  } finally {
    await Deno.remove(file);
  }
}

Deno.test("sipp: the answer repeats the offer's telephone-event events (0-15 offered, 0-15 answered)", async () => {
  if (!haveSipp()) return;
  await answerMatches(
    [
      "m=audio [media_port] RTP/AVP 8 101",
      "a=rtpmap:8 PCMA/8000",
      "a=rtpmap:101 telephone-event/8000",
      "a=fmtp:101 0-15",
    ],
    ["a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15[[:space:]]"],
  );
});

for (const rate of [48000, 8000]) {
  Deno.test(`sipp: an Opus offer with telephone-event/${rate} gets telephone-event/${rate} back`, async () => {
    if (!haveSipp()) return;
    await answerMatches(
      [
        "m=audio [media_port] RTP/AVP 111 101",
        "a=rtpmap:111 opus/48000/2",
        `a=rtpmap:101 telephone-event/${rate}`,
        "a=fmtp:101 0-15",
      ],
      [
        "m=audio [0-9]+ RTP/AVP 111 101[[:space:]]",
        "a=rtpmap:111 opus/48000/2",
        `a=rtpmap:101 telephone-event/${rate}[[:space:]]`,
        "a=fmtp:101 0-15[[:space:]]",
      ],
    );
  });
}

Deno.test("sipp: an offer with comfort noise (CN/8000) gets CN back in the answer", async () => {
  if (!haveSipp()) return;
  await answerMatches(
    [
      "m=audio [media_port] RTP/AVP 8 13 101",
      "a=rtpmap:8 PCMA/8000",
      "a=rtpmap:13 CN/8000",
      "a=rtpmap:101 telephone-event/8000",
      "a=fmtp:101 0-15",
    ],
    ["m=audio [0-9]+ RTP/AVP 8 13 101[[:space:]]", "a=rtpmap:13 CN/8000"],
  );
});
