/**
 * `deno task start`: runs the ClutchCall Voice server on embedded defaults, or as flags,
 * environment variables and a config file say (see `--help`).
 *
 * @module
 */
import { ConfigError, loadConfig, usage } from "./config.ts";
import { createLogger } from "../log/mod.ts";
import { VoiceServer } from "./server.ts";
import { StartupError } from "./startup_error.ts";
import { VERSION } from "./version.ts";

async function main(): Promise<number> {
  if (Deno.args.length === 1 && (Deno.args[0] === "--version" || Deno.args[0] === "-V")) {
    console.log(`clutchcall-voice ${VERSION}`);
    return 0;
  }
  let config;
  try {
    config = await loadConfig(Deno.args, Deno.env.toObject());
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`error: ${error.message}`);
      if (error.usage) console.error(error.usage);
      return 2;
    }
    throw error;
  }
  if (config.help) {
    console.log(usage());
    return 0;
  }
  const log = createLogger({ level: config.logLevel });

  // No process-wide "log and keep going" handler: a background task that fails is handled
  // where it runs, and anything that still escapes ends the process (Deno's default) rather
  // than leaving it running in an unknown state.
  let server;
  try {
    server = await VoiceServer.start(config, log);
  } catch (error) {
    // One clear line, no stack: the cause is in the debug log for whoever wants it.
    const failure = error instanceof StartupError
      ? error
      : new StartupError(`Cannot start the server: ${error}`, { cause: error });
    log.debug("Startup failed", { error: failure.cause });
    console.error(`error: ${failure.message.split("\n", 1)[0]}`);
    return 1;
  }
  log.info("ClutchCall Voice listening", {
    version: VERSION,
    http: server.httpUrl,
    moq: server.moqUrl,
    quic: `${config.host}:${server.moqPort} (ALPN moq-00)`,
    // The bound SIP port (the one picked when sip.listen.port is 0).
    ...(config.sip ? { sip: `${config.sip.listen.host}:${server.sipPort}` } : {}),
    certificateSha256: server.certificate.sha256Hex,
    certificateNotAfter: server.certificate.notAfter.toISOString(),
    dataDir: config.dataDir,
    plugins: server.plugins.status().map((p) => `${p.name}:${p.state}`),
    // Development mode (no auth configured): the self-minted token, also in <data-dir>/dev-token.
    auth: server.devToken ? "development" : "jwt",
    ...(server.devToken ? { devToken: server.devToken } : {}),
  });

  const stopped = Promise.withResolvers<void>();
  const stop = (signal: string) => {
    log.info("Signal received", { signal });
    server.close().then(stopped.resolve, stopped.reject);
  };
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  // SIGHUP reloads the certificate (an operator replaced the --cert/--key files), as nginx
  // does: new MoQT connections get it, live ones keep theirs; a bad file keeps the old one.
  Deno.addSignalListener("SIGHUP", () => {
    log.info("Signal received", { signal: "SIGHUP" });
    server.reloadCertificate().catch((error) =>
      log.error("Cannot reload the certificate; keeping the current one", { error })
    );
  });
  await stopped.promise;
  return 0;
}

if (import.meta.main) Deno.exit(await main());
