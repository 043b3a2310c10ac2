// Package examplestest runs the connector templates under examples/
// (postgres, mysql, mongodb, webservice; c, built with clang, for its
// login and getUser) through the engine against real
// servers: one table-driven suite, the same seed users and the same
// expectations for every template. It holds only tests.
//
// The servers are the team's test services (SLUICE_TEST_PG_DSN,
// SLUICE_TEST_MYSQL_DSN, SLUICE_TEST_MONGO_URI; run
// scripts/test-services.sh up first); the web service is an httptest
// server implementing the legacy REST API examples/webservice documents.
package examplestest
