module sluice.test/calllog

go 1.24

require github.com/sluice-dev/sluice/guest-sdk v0.0.0

replace github.com/sluice-dev/sluice/guest-sdk => ../../../guest-sdk
