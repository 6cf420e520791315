/**
 * The Calls API's zod schemas: they validate requests and generate `GET /openapi.json`.
 * Request bodies are strict: an unknown field is a validation failure.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { CLIENT_IDENTITY, E164, isAddress, SIP_URI } from "./address.ts";
import { CALL_STATUSES, END_REASONS } from "./status.ts";

const CAPABILITY = /^[A-Za-z0-9][A-Za-z0-9._+-]*(\/[A-Za-z0-9][A-Za-z0-9._+-]*)*$/;

/** A call sid in a path. */
export const SidParam = z.object({
  sid: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/).openapi({
    param: { name: "sid", in: "path" },
    example: "CA0f1e2d3c4b5a69788796a5b4c3d2e1f0",
  }),
});

/** A client identity in a path. */
export const IdentityParam = z.object({
  identity: z.string().regex(CLIENT_IDENTITY).openapi({
    param: { name: "identity", in: "path" },
    example: "alice",
  }),
});

const Address = z.string().max(256).refine(isAddress, {
  message: 'Expected an E.164 number ("+14155550100"), a sip: URI or "client:<identity>"',
}).openapi({ example: "client:alice" });

const From = z.string().max(256).refine(
  (v) => E164.test(v) || SIP_URI.test(v) || v.startsWith("client:") && isAddress(v),
  { message: 'Expected an E.164 number ("+14155550100"), a sip: URI or "client:<identity>"' },
).openapi({ example: "+14155550100" });

const Url = z.string().max(2048).refine((v) => {
  try {
    const url = new URL(v);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch (error) {
    if (error instanceof TypeError) return false; // URL's refusal: not a URL
    throw error;
  }
}, { message: "Expected an http(s) URL" }).openapi({ example: "https://example.com/status" });

/** `POST /v1/calls` body. */
export const OriginateBody = z.strictObject({
  to: Address,
  from: From,
  statusCallback: Url.optional(),
  capabilities: z.array(z.string().max(255).regex(CAPABILITY)).min(1).max(8).optional()
    .openapi({ example: ["voice/opus"] }),
  ringTimeoutMs: z.number().int().min(1000).max(600_000).optional().openapi({
    description:
      "How long the callee may ring before the call ends no_answer, ms [sip.ringTimeoutMs (60000) for SIP destinations, the client ring timeout (30000) for client:]",
    example: 25_000,
  }),
}).openapi("OriginateRequest");

/** `POST /v1/calls/{sid}/transfer` body: exactly one of `to` and `agent`. */
export const TransferBody = z.union([
  z.strictObject({ to: Address }),
  z.strictObject({
    agent: z.string().min(1).max(128).regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/),
  }),
]).openapi("TransferRequest");

/** `POST /v1/calls/{sid}/digits` body: DTMF digits to play to the far end (RFC 4733). */
export const DigitsBody = z.strictObject({
  digits: z.string().min(1).max(64).regex(/^[0-9*#A-Da-d]+$/).openapi({ example: "1234#" }),
}).openapi("DigitsRequest");

/** `GET /v1/calls` query. */
export const ListQuery = z.strictObject({
  status: z.enum(CALL_STATUSES as [string, ...string[]]).optional(),
  direction: z.enum(["outbound", "inbound"]).optional(),
  createdAfter: z.iso.datetime({ offset: true }).optional()
    .openapi({ example: "2030-01-01T00:00:00Z" }),
  createdBefore: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(512).optional(),
});

/** A call. */
export const CallSchema = z.object({
  sid: z.string(),
  direction: z.enum(["outbound", "inbound"]),
  from: z.string(),
  to: z.string(),
  status: z.enum(CALL_STATUSES as [string, ...string[]]),
  createdAt: z.string(),
  times: z.record(z.string(), z.string()).openapi({
    description: "When the call entered each status it went through",
  }),
  endReason: z.enum(END_REASONS as [string, ...string[]]).optional(),
  sipStatus: z.number().int().optional().openapi({
    description: "SIP legs: the final response that ended the call (e.g. 486)",
  }),
  statusCallback: z.string().optional(),
  ringTimeoutMs: z.number().int().optional().openapi({
    description: "The ring timeout given at originate, ms",
  }),
  tracks: z.object({ uplink: z.string(), downlink: z.string() }),
  capabilities: z.array(z.string()),
  transfers: z.array(z.object({
    to: z.string().optional(),
    agent: z.string().optional(),
    at: z.string(),
  })),
  agent: z.string().optional().openapi({ description: "The agent bound to the call now" }),
}).openapi("Call");

/** A page of calls. */
export const CallPageSchema = z.object({
  calls: z.array(CallSchema),
  nextCursor: z.string().optional(),
}).openapi("CallPage");

/** A client registration. */
export const ClientSchema = z.object({
  identity: z.string(),
  registeredAt: z.string(),
}).openapi("ClientRegistration");

/** A call's transcript: the finals so far, in order (`GET /v1/calls/{sid}/transcript`). */
export const TranscriptSchema = z.object({
  sid: z.string(),
  finals: z.array(z.object({
    track: z.enum(["uplink", "downlink"]),
    text: z.string(),
    start: z.number().openapi({ description: "ms from the start of the call's audio" }),
    end: z.number().openapi({ description: "ms from the start of the call's audio" }),
    confidence: z.number().min(0).max(1).optional(),
    at: z.string().openapi({ description: "When the final arrived (ISO 8601)" }),
  })),
  truncated: z.boolean().openapi({
    description: "True when older finals were dropped to stay within the per-call bounds",
  }),
}).openapi("Transcript");
