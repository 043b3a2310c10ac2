module github.com/sluice-dev/sluice/examples/django

go 1.26.0

require github.com/sluice-dev/sluice/guest-sdk v0.0.0

replace github.com/sluice-dev/sluice/guest-sdk => ../../guest-sdk
