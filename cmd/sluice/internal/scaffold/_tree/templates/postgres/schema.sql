-- The legacy user table the postgres example connector reads and writes.
-- Emails and usernames are unique regardless of case; a user needs at
-- least one of email, username and phone. password_hash holds a bcrypt
-- hash (cost 10), or NULL for a user who cannot log in with a password.
CREATE TABLE users (
    id             bigserial PRIMARY KEY,
    email          text,
    email_verified boolean NOT NULL DEFAULT false,
    username       text,
    phone          text,
    phone_verified boolean NOT NULL DEFAULT false,
    nickname       text,
    name           text,
    given_name     text,
    family_name    text,
    photo          text,
    gender         text,
    birthdate      text,
    address        text,
    company        text,
    website        text,
    blocked        boolean NOT NULL DEFAULT false,
    custom_data    jsonb,
    password_hash  text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_identifier_check CHECK (email IS NOT NULL OR username IS NOT NULL OR phone IS NOT NULL)
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_phone_key ON users (phone);
