-- The legacy user table the mysql example connector reads and writes
-- (MySQL 8 or MariaDB 10.5 and later). The case-insensitive collation makes
-- emails and usernames unique, and found, regardless of case; a user needs
-- at least one of email, username and phone. password_hash holds a bcrypt
-- hash (cost 10), or NULL for a user who cannot log in with a password.
CREATE TABLE users (
    id             bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
    email          varchar(255),
    email_verified boolean NOT NULL DEFAULT false,
    username       varchar(255),
    phone          varchar(32),
    phone_verified boolean NOT NULL DEFAULT false,
    nickname       varchar(255),
    name           varchar(255),
    given_name     varchar(255),
    family_name    varchar(255),
    photo          varchar(1024),
    gender         varchar(32),
    birthdate      varchar(10),
    address        varchar(1024),
    company        varchar(255),
    website        varchar(1024),
    blocked        boolean NOT NULL DEFAULT false,
    custom_data    json,
    password_hash  varchar(255),
    created_at     timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE KEY users_email_key (email),
    UNIQUE KEY users_username_key (username),
    UNIQUE KEY users_phone_key (phone),
    CONSTRAINT users_identifier_check CHECK (email IS NOT NULL OR username IS NOT NULL OR phone IS NOT NULL)
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
