module sluice.test/rawprofile

go 1.24
