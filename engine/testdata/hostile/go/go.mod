// Hostile Go guests for the engine's hostile corpus (see ../README.md),
// written with the guest SDK like a tenant's connector would be.
module sluice.test/hostile

go 1.26.0

require (
	github.com/sluice-dev/sluice/guest-sdk v0.0.0
	golang.org/x/crypto v0.59.0
)

replace github.com/sluice-dev/sluice/guest-sdk => ../../../../guest-sdk
