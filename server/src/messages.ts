import type pg from "pg";
import type { ChatInput, ChatMessage } from "./chat_message.ts";

/** Reads and writes the `messages` table. */
export interface MessageStore {
  /** Stores messages in one statement and returns the rows in id order. */
  insert(inputs: readonly ChatInput[]): Promise<ChatMessage[]>;
  /** The newest `limit` messages, oldest first. */
  recent(limit: number): Promise<ChatMessage[]>;
}

interface MessageRow {
  id: string;
  username: string;
  color: string;
  msg: string;
  created_at: Date;
}

const COLUMNS = "id, username, color, msg, created_at";

/** Newest first; walks the primary key index backwards and reads only `$1` rows. */
export const RECENT_SQL =
  `SELECT ${COLUMNS} FROM messages ORDER BY id DESC LIMIT $1`;

/** A store backed by `pool`. */
export function createMessageStore(pool: pg.Pool): MessageStore {
  return {
    async insert(inputs) {
      if (inputs.length === 0) return [];
      const { rows } = await pool.query<MessageRow>({
        name: "insert_messages",
        text: `INSERT INTO messages (username, color, msg)
          SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
          RETURNING ${COLUMNS}`,
        values: [
          inputs.map((input) => input.username),
          inputs.map((input) => input.color),
          inputs.map((input) => input.msg),
        ],
      });
      return rows.map(toMessage).sort((a, b) => a.id - b.id);
    },

    async recent(limit) {
      const { rows } = await pool.query<MessageRow>({
        name: "recent_messages",
        text: RECENT_SQL,
        values: [limit],
      });
      return rows.map(toMessage).reverse();
    },
  };
}

function toMessage(row: MessageRow): ChatMessage {
  return {
    id: Number(row.id),
    username: row.username,
    color: row.color,
    msg: row.msg,
    created_at: row.created_at.toISOString(),
  };
}
