-- The users table the seed product's PostgreSQL template reads and writes
-- (the columns its template names; the seed's demo database has them).
CREATE TABLE users (
    id        serial PRIMARY KEY,
    email     text UNIQUE,
    username  text UNIQUE,
    phone     text UNIQUE,
    password  text,
    nickname  text,
    photo     text,
    token     text,
    created_at timestamptz NOT NULL DEFAULT now()
);
