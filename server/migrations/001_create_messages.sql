-- Chat history. GET /chat reads the newest rows backwards through the
-- primary key index, so its cost does not grow with the table.
CREATE TABLE messages (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username text NOT NULL CHECK (char_length(username) BETWEEN 1 AND 32),
  color text NOT NULL CHECK (color ~ '^#[0-9A-Fa-f]{6}$'),
  msg text NOT NULL CHECK (char_length(msg) BETWEEN 1 AND 2000),
  created_at timestamptz NOT NULL DEFAULT now()
);
