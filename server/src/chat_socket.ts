import { parseChatFrame } from "./chat_message.ts";
import { type ChatRoom, sendError } from "./chat_room.ts";

/**
 * Connects a server-side WebSocket to the room: it joins when open, its valid
 * frames go to the room's queue, invalid ones get an error frame back and
 * leave the connection open, and it leaves the room when it closes.
 */
export function attachToRoom(socket: WebSocket, room: ChatRoom): void {
  socket.binaryType = "arraybuffer";
  socket.addEventListener("open", () => room.join(socket));
  socket.addEventListener("message", (event) => {
    const frame = parseChatFrame(event.data);
    if (frame.ok) room.submit(socket, frame.input);
    else sendError(socket, frame.error);
  });
  socket.addEventListener("close", () => room.leave(socket));
  socket.addEventListener("error", () => room.leave(socket));
}
