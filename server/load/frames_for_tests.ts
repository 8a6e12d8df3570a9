/** Frames as the server sends them, for the harness's tests. */

/** The error frame a sender gets when its message could not be stored. */
export const REFUSED = JSON.stringify({
  error: "Message could not be stored, try again later",
});

/** A stored message as it is broadcast. */
export function message(id: number, msg: string): string {
  return JSON.stringify({
    id,
    username: "u",
    color: "#000000",
    msg,
    created_at: "2026-12-03T18:00:00.000Z",
  });
}
