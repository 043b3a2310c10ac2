module github.com/sluice-dev/sluice/guest-sdk

go 1.24
