// Command flood is a hostile guest whose login does what its password
// says, forever:
//
//	argon2      password.hash with argon2id, a costly host call, in a loop
//	output      output_write of 1 MiB in a loop
//	log         100-byte lines to the host log in a loop
//	emptylines  empty lines to stdout in a loop (no log bytes, many entries)
//	panic       panic once (a trap)
//	panicloop   panic and recover in a loop
//	churn       allocate and drop 1 MiB in a loop (the guest's GC works)
package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"unsafe"

	"github.com/sluice-dev/sluice/guest-sdk/fn/login"
	"github.com/sluice-dev/sluice/guest-sdk/password"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

func main() {}

//go:wasmimport sluice output_write
func outputWrite(ptr unsafe.Pointer, n int32)

var (
	sink  []byte
	count int
)

func init() {
	login.Handle(func(ctx context.Context, in sluice.LoginInput) (*sluice.User, error) {
		switch in.Password {
		case "argon2":
			for {
				h, _ := password.Hash("argon2id", "hunter2")
				count += len(h)
			}
		case "output":
			buf := make([]byte, 1<<20)
			for i := range buf {
				buf[i] = ' '
			}
			for {
				outputWrite(unsafe.Pointer(&buf[0]), int32(len(buf)))
				count++
			}
		case "log":
			line := strings.Repeat("x", 100)
			for {
				sluice.Log.Info(line)
			}
		case "emptylines":
			nl := []byte("\n")
			for {
				os.Stdout.Write(nl)
			}
		case "panic":
			panic("hostile panic")
		case "panicloop":
			for {
				func() {
					defer func() { count += len(recover().(string)) }()
					panic("again")
				}()
			}
		case "churn":
			for i := 0; ; i++ {
				sink = make([]byte, 1<<20)
				sink[i%len(sink)] = byte(i)
			}
		}
		return nil, errors.New("unknown flood " + in.Password)
	})
}
