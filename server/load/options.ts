import { BASELINE_CYCLE, SOAK_V8_FLAGS } from "./soak.ts";

/** Command-line options of `deno task load`. */
export interface LoadOptions {
  /** Fewer soak cycles, for CI; the load scenarios keep their full size. */
  short: boolean;
  /** Print the figures as JSON instead of a table. */
  json: boolean;
  /** Seed of the invalid frames, so a failing run can be repeated. */
  seed: number;
  soakCycles: number;
  /** `DENO_V8_FLAGS` of the soak's server; empty for V8's defaults. */
  soakV8Flags: string;
  help: boolean;
}

export const FULL_SOAK_CYCLES = 10_000;
export const SHORT_SOAK_CYCLES = 2_000;
/** The soak's baseline is taken at most half-way. */
export const MIN_SOAK_CYCLES = 2 * BASELINE_CYCLE;

export const USAGE =
  `Usage: deno task load [--short] [--json] [--seed N] [--soak-cycles N]
                       [--soak-v8-flags FLAGS]

Runs the chat server and a PostgreSQL cluster and puts them under load,
invalid frames, a database outage and a connect/disconnect soak.

  --short                ${SHORT_SOAK_CYCLES} soak cycles instead of ${FULL_SOAK_CYCLES}
  --json                 print the figures as JSON instead of a table
  --seed N               seed of the invalid frames (default: the current time)
  --soak-cycles N        soak cycles, at least ${MIN_SOAK_CYCLES} (overrides --short)
  --soak-v8-flags FLAGS  DENO_V8_FLAGS of the soak's server, comma-separated
                         (default: ${SOAK_V8_FLAGS}; "" for V8's defaults)

Exit status: 0 when every check passed, 1 when one failed, 2 when the
harness could not run.`;

/** Reads the flags; throws on anything it does not know. */
export function parseOptions(
  args: readonly string[],
  defaultSeed: number,
): LoadOptions {
  const options: LoadOptions = {
    short: false,
    json: false,
    seed: defaultSeed,
    soakCycles: FULL_SOAK_CYCLES,
    soakV8Flags: SOAK_V8_FLAGS,
    help: false,
  };
  let cycles: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--short") options.short = true;
    else if (arg === "--json") options.json = true;
    else if (arg === "--help" || arg === "-h") options.help = true;
    else if (arg === "--seed") {
      options.seed = readInteger(arg, args[++i], 0, 2 ** 32 - 1);
    } else if (arg === "--soak-cycles") {
      cycles = readInteger(arg, args[++i], MIN_SOAK_CYCLES, 1_000_000);
    } else if (arg === "--soak-v8-flags") {
      const flags = args[++i];
      if (flags === undefined) {
        throw new Error(`${arg} takes a comma-separated list of V8 flags`);
      }
      options.soakV8Flags = flags;
    } else throw new Error(`Unknown argument ${JSON.stringify(arg)}`);
  }
  options.soakCycles = cycles ??
    (options.short ? SHORT_SOAK_CYCLES : FULL_SOAK_CYCLES);
  return options;
}

function readInteger(
  flag: string,
  text: string | undefined,
  min: number,
  max: number,
): number {
  const value = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || value < min || value > max) {
    throw new Error(
      `${flag} takes an integer from ${min} to ${max}, got ${
        text === undefined ? "nothing" : JSON.stringify(text)
      }`,
    );
  }
  return value;
}
