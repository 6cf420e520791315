/**
 * Failures become problem responses, never a 500 carrying an internal message: a gateway's
 * SipError 481, an impossible list filter, an unexpected error, an unreadable recordings
 * folder. Real HTTP: the Calls API served by Deno.serve over an in-memory service, and the
 * real server.
 */
import { assert, assertEquals } from "@std/assert";
import {
  type Call,
  type CallGateway,
  type CallProgress,
  CallService,
  createCallsApi,
  KvCallStore,
} from "../../src/calls/mod.ts";
import { SipError } from "../../src/sip/error.ts";
import { Origin } from "../../src/relay/model/origin.ts";
import { createLogger } from "../../src/log/mod.ts";
import { startServer } from "./_server.ts";

const log = createLogger({ level: "error", json: true, sink: () => {} });

/** A gateway whose legs the test drives; its refusals are real SipErrors. */
class ScriptedGateway implements CallGateway {
  readonly legs = new Map<string, CallProgress>();
  refusal: Error | undefined;
  dial(call: Call, progress: CallProgress): void {
    this.legs.set(call.sid, progress);
  }
  refuses(): string | undefined {
    if (this.refusal) throw this.refusal;
    return undefined;
  }
  sendDigits(sid: string): Promise<void> {
    return Promise.reject(
      new SipError(481, "Call/Transaction Does Not Exist", `No live SIP leg for ${sid}`),
    );
  }
}

async function serveApi(gateway: CallGateway) {
  const store = await KvCallStore.open();
  const calls = new CallService({ store, origin: new Origin(), log, gateway });
  await calls.start();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    createCallsApi({ calls }).fetch,
  );
  const url = `http://127.0.0.1:${server.addr.port}`;
  const post = (path: string, body?: unknown) =>
    fetch(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return {
    calls,
    url,
    post,
    async [Symbol.asyncDispose]() {
      await calls.close();
      await server.shutdown();
      store.close();
    },
  };
}

Deno.test("a gateway's SipError 481 on digits is a 409 problem, not a 500", async () => {
  const gateway = new ScriptedGateway();
  await using api = await serveApi(gateway);
  const created = await (await api.post("/v1/calls", {
    from: "+14155550100",
    to: "+14155550123",
  })).json();
  await gateway.legs.get(created.sid)!.answered();
  const response = await api.post(`/v1/calls/${created.sid}/digits`, { digits: "12" });
  assertEquals(response.status, 409);
  assertEquals(response.headers.get("content-type"), "application/problem+json");
  const problem = await response.json();
  assertEquals([problem.type, problem.gatewayStatus], [
    "https://clutchcall.dev/problems/conflict",
    481,
  ]);
});

Deno.test("an unexpected error is a 500 whose detail names nothing internal", async () => {
  const gateway = new ScriptedGateway();
  gateway.refusal = new Error("ENOENT: /var/lib/secret/trunks.db is gone");
  await using api = await serveApi(gateway);
  const response = await api.post("/v1/calls", { from: "+14155550100", to: "+14155550123" });
  assertEquals(response.status, 500);
  const problem = await response.json();
  assertEquals(problem.detail, "The server failed to handle the request");
  assert(!JSON.stringify(problem).includes("secret"), JSON.stringify(problem));
});

Deno.test("createdAfter later than createdBefore is 422, not 500", async () => {
  await using fx = await startServer();
  const response = await fx.fetch(
    "/v1/calls?createdAfter=2030-01-02T00:00:00Z&createdBefore=2030-01-01T00:00:00Z",
  );
  assertEquals(response.status, 422);
  const problem = await response.json();
  assertEquals(problem.type, "https://clutchcall.dev/problems/validation-failed");
});

Deno.test("a server-side failure outside the Calls API is a 500 without its message", async () => {
  await using fx = await startServer();
  // The recordings folder is a file: reading it fails with a message naming the path.
  await Deno.writeTextFile(`${fx.dataDir}/recordings`, "not a folder");
  const response = await fx.fetch("/v1/recordings");
  assertEquals(response.status, 500);
  const problem = await response.json();
  assertEquals(problem.detail, "The server failed to handle the request");
  assert(!JSON.stringify(problem).includes(fx.dataDir), JSON.stringify(problem));
});
