import assert from "node:assert/strict";

async function runLoad(args: string[]) {
  const result = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      new URL("./load.ts", import.meta.url).pathname,
      ...args,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const decoder = new TextDecoder();
  return {
    code: result.code,
    stdout: decoder.decode(result.stdout),
    stderr: decoder.decode(result.stderr),
  };
}

Deno.test("load.ts --help prints the usage on stdout and exits 0", async () => {
  const { code, stdout, stderr } = await runLoad(["--help"]);
  assert.equal(code, 0);
  assert.match(stdout, /^Usage: deno task load \[--short\]/);
  assert.equal(stderr, "");
});

Deno.test("load.ts exits 2 on a bad argument, before starting anything", async () => {
  const { code, stdout, stderr } = await runLoad(["--soak-cycles", "10"]);
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.match(
    stderr,
    /^error: --soak-cycles takes an integer from 2000 to 1000000, got "10"\n\nUsage:/,
  );
});
