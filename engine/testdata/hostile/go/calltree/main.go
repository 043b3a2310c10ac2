// Command calltree is a hostile guest: login runs nested Go loops of 1000
// iterations each (fewer than the 16384 after which an instrumented loop
// looks at the interrupt flag), every iteration calling a function that
// loops 1000 times again. The password is the number of levels: "3" is the
// issue's shape (10^9 innermost iterations: seconds of work), "5" does not
// end in practice.
package main

import (
	"context"
	"strconv"

	"github.com/sluice-dev/sluice/guest-sdk/fn/login"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

func main() {}

const width = 1000

var sink uint64

func init() {
	login.Handle(func(ctx context.Context, in sluice.LoginInput) (*sluice.User, error) {
		levels, err := strconv.Atoi(in.Password)
		if err != nil || levels < 1 {
			levels = 3
		}
		sink += level(levels-1, 1)
		return &sluice.User{ID: strconv.FormatUint(sink, 10)}, nil
	})
}

// level loops width times, each time calling the level below; level 0
// loops width times over a little arithmetic.
//
//go:noinline
func level(depth int, seed uint64) uint64 {
	if depth == 0 {
		return leaf(seed)
	}
	var acc uint64
	for i := 0; i < width; i++ {
		acc += level(depth-1, seed+uint64(i))
	}
	return acc
}

//go:noinline
func leaf(x uint64) uint64 {
	for i := 0; i < width; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}
