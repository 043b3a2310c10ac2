module github.com/sluice-dev/sluice/examples/static

go 1.26.0

require (
	github.com/sluice-dev/sluice/guest-sdk v0.0.0
	golang.org/x/crypto v0.59.0
)

replace github.com/sluice-dev/sluice/guest-sdk => ../../guest-sdk
