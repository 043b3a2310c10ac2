package main

import (
	"os"

	"github.com/sluice-dev/sluice/guest-sdk/internal/jsonx"
)

var resp, _ = os.ReadFile("/nonexistent")
var data = []byte(`{"result":{"columns":["id","email","email_verified","username","phone","phone_verified","nickname","name","given_name","family_name","photo","gender","birthdate","address","company","website","blocked","custom_data","coalesce"],"types":["int8","text","bool","text","text","bool","text","text","text","text","text","text","text","text","text","text","bool","jsonb","text"],"rows":[[42,"ada@example.com",true,"ada","+15550100",false,"Ada","Ada Lovelace","Ada","Lovelace","https://example.com/ada.png",null,"1815-12-10",null,"Analytical Engines Ltd",null,false,{"logins":7,"plan":"pro"},"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"]]}}`)

var sink int

//go:wasmexport value
func value(n int32) int32 {
	for range n {
		e, _ := jsonx.Value(data, 0)
		sink += e
	}
	return 0
}

//go:wasmexport loop
func loop(n int32) int32 {
	for range n {
		c := 0
		for _, b := range data {
			if b == '"' {
				c++
			}
		}
		sink += c
	}
	return 0
}

//go:wasmexport appendstr
func appendstr(n int32) int32 {
	var buf []byte
	for range n {
		buf = jsonx.AppendString(buf[:0], string(data), true)
	}
	sink += len(buf)
	return 0
}

//go:wasmexport alloc
func alloc(n int32) int32 {
	for range n {
		b := make([]byte, 16)
		sink += len(b)
	}
	return 0
}

//go:wasmexport noop
func noop(n int32) int32 { return 0 }

func main() {}

//go:noinline
func leaf(x int) int { return x + 1 }

//go:wasmexport calls
func calls(n int32) int32 {
	x := 0
	for range n {
		x = leaf(x)
	}
	sink += x
	return 0
}

var keep []*[24]byte

//go:wasmexport allocs
func allocs(n int32) int32 {
	for i := range n {
		p := new([24]byte)
		if i%1024 == 0 {
			keep = append(keep[:0], p)
		}
	}
	return 0
}

var plainStr = []byte(`"` + string(make([]byte, 0)) + "SELECT id, email, email_verified, username, phone, phone_verified, nickname, name, given_name, family_name, photo, gender, birthdate, address, company, website, blocked, custom_data, coalesce(password_hash, '') FROM users WHERE lower(email) = lower($1) ORDER BY id LIMIT 1 SELECT id, email, email_verified, username, phone, phone_verified, nickname, name, given_name, family_name, photo, gender, birthdate, address, company, website, blocked, custom_data, coalesce(password_hash, '') FROM users WHERE lower(email) = lower($1) ORDER BY id LIMIT 1" + `"`)

//go:wasmexport strscan
func strscan(n int32) int32 {
	for range n {
		e, _, _ := jsonx.String(plainStr, 0)
		sink += e
	}
	return 0
}

//go:wasmexport strloop
func strloop(n int32) int32 {
	for range n {
		c := 0
		for _, b := range plainStr {
			if b == '"' || b == '\\' || b < 0x20 || b >= 0x80 {
				c++
			}
		}
		sink += c
	}
	return 0
}
