// Command wordpress is a Sluice connector for the users of a WordPress
// site: the real wp_users and wp_usermeta tables on MySQL or MariaDB
// (schema.sql is WordPress's own layout). It implements all eight
// connector functions, so it serves both LAZY_MIGRATION and
// CUSTOM_USER_STORE. It checks every hash WordPress stores — phpass
// ($P$), WordPress 6.8's bcrypt ($wp$2y$), plain bcrypt and the old MD5 —
// and writes new passwords as WordPress 6.8 does ($wp$2y$). TABLE_PREFIX
// names the tables' prefix ("wp_" by default). See README.md.
//
// Build it as a WASI reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -o wordpress.wasm .
package main
