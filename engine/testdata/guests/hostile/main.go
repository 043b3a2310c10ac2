// Command hostile is a test guest whose login does what its input's "do"
// says: loop forever, exhaust memory, recurse without end, panic, exit,
// flood the log, return huge output, open a file, sleep, or echo.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"sluice.test/guests/abi"
)

func main() {}

var (
	sink  [][]byte
	calls int
)

//go:wasmexport login
func login(n int32) int32 {
	calls++
	var in struct {
		Do string `json:"do"`
	}
	json.Unmarshal(abi.Input(n), &in)
	switch in.Do {
	case "loop":
		for i := 0; ; i++ {
			if i < 0 {
				break
			}
		}
	case "membomb":
		for {
			sink = append(sink, make([]byte, 1<<20))
		}
	case "recurse":
		return recurse(1)
	case "panic":
		panic("hostile panic")
	case "exit":
		os.Exit(3)
	case "logflood":
		line := strings.Repeat("x", 100)
		for {
			fmt.Println(line)
		}
	case "hostlogflood":
		for {
			abi.Log(1, strings.Repeat("y", 100))
		}
	case "hugeoutput":
		return abi.Output(make([]byte, 10<<20), 0)
	case "openfile":
		_, err := os.ReadFile("/etc/passwd")
		return abi.JSON(map[string]string{"id": "x", "error": fmt.Sprint(err)})
	case "sleep":
		time.Sleep(time.Hour)
	case "hostbytesflood":
		big := []byte(`"` + strings.Repeat("z", 16<<10) + `"`)
		for i := 0; i < 40; i++ {
			abi.HostCall("test.echo", big)
		}
	case "hostcallflood":
		for {
			abi.HostCall("test.echo", []byte("{}"))
		}
	}
	return abi.JSON(map[string]any{"id": "ok", "calls": calls})
}

func recurse(n int) int32 {
	var pad [64]byte
	pad[n%64] = byte(n)
	return recurse(n+1) + int32(pad[0])
}
