-- The users table Auth0's SQL templates read and write.
CREATE TABLE users (
    id             serial PRIMARY KEY,
    email          varchar(200) UNIQUE,
    password       varchar(200),
    nickname       varchar(200),
    email_verified boolean NOT NULL DEFAULT false
);
