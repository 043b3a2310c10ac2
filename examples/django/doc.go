// Command django is a Sluice connector for the users of a Django project:
// the real auth_user table of django.contrib.auth on PostgreSQL
// (schema.sql is what Django's migrations create). It implements all
// eight connector functions, so it serves both LAZY_MIGRATION and
// CUSTOM_USER_STORE. Passwords are checked on the host in Django's own
// formats (pbkdf2_sha256$..., argon2$..., bcrypt_sha256$..., ...) and
// written as pbkdf2_sha256; inactive users (is_active false) cannot log
// in, as with Django's ModelBackend. USERS_TABLE names the table
// ("auth_user" by default). See README.md.
//
// Build it as a WASI reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -o django.wasm .
package main
