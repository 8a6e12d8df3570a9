import assert from "node:assert/strict";
import {
  FULL_SOAK_CYCLES,
  parseOptions,
  SHORT_SOAK_CYCLES,
} from "./options.ts";
import { SOAK_V8_FLAGS } from "./soak.ts";

Deno.test("parseOptions() defaults to the full run, tabled, with the given seed", () => {
  assert.deepEqual(parseOptions([], 9), {
    short: false,
    json: false,
    seed: 9,
    soakCycles: FULL_SOAK_CYCLES,
    soakV8Flags: SOAK_V8_FLAGS,
    help: false,
  });
});

Deno.test("parseOptions() reads --short, --json, --seed and --soak-v8-flags", () => {
  assert.deepEqual(
    parseOptions(
      ["--short", "--json", "--seed", "5", "--soak-v8-flags", ""],
      9,
    ),
    {
      short: true,
      json: true,
      seed: 5,
      soakCycles: SHORT_SOAK_CYCLES,
      soakV8Flags: "",
      help: false,
    },
  );
});

Deno.test("parseOptions() lets --soak-cycles override --short", () => {
  assert.equal(
    parseOptions(["--soak-cycles", "3000", "--short"], 0).soakCycles,
    3000,
  );
});

Deno.test("parseOptions() refuses unknown flags, missing values and bad numbers", () => {
  assert.throws(() => parseOptions(["--fast"], 0), {
    message: 'Unknown argument "--fast"',
  });
  assert.throws(() => parseOptions(["--seed"], 0), {
    message: "--seed takes an integer from 0 to 4294967295, got nothing",
  });
  assert.throws(() => parseOptions(["--seed", "-1"], 0), {
    message: '--seed takes an integer from 0 to 4294967295, got "-1"',
  });
  assert.throws(() => parseOptions(["--soak-cycles", "1999"], 0), {
    message: '--soak-cycles takes an integer from 2000 to 1000000, got "1999"',
  });
  assert.throws(() => parseOptions(["--soak-v8-flags"], 0), {
    message: "--soak-v8-flags takes a comma-separated list of V8 flags",
  });
});
