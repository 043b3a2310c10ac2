package sqlhost

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"
)

func TestDecodeArg(t *testing.T) {
	tests := []struct {
		in      string
		want    any
		wantErr bool
	}{
		{`null`, nil, false},
		{`true`, true, false},
		{`9007199254740993`, int64(9007199254740993), false},
		{`-9223372036854775808`, int64(-9223372036854775808), false},
		{`18446744073709551615`, uint64(18446744073709551615), false},
		{`18446744073709551616`, nil, true},
		{`0.1`, 0.1, false},
		{`1e3`, 1000.0, false},
		{`"12.50"`, "12.50", false},
		{`{"$bytes":"AP8="}`, []byte{0, 255}, false},
		{`{"$bytes":"!!"}`, nil, true},
		{`{"$time":"2024-02-29T12:00:00+01:00"}`, time.Date(2024, 2, 29, 11, 0, 0, 0, time.UTC), false},
		{`{"$time":"yesterday"}`, nil, true},
		{`{"a": [1, 2]}`, `{"a":[1,2]}`, false},
		{`[1, "x"]`, `[1,"x"]`, false},
		{`{"$bytes":"AP8=","x":1}`, `{"$bytes":"AP8=","x":1}`, false},
		{``, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := decodeArg(json.RawMessage(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, wantErr %v", err, tc.wantErr)
			}
			if tm, ok := got.(time.Time); ok {
				if !tm.Equal(tc.want.(time.Time)) {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
				return
			}
			if !tc.wantErr && !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestCellJSON(t *testing.T) {
	row := []any{bytesCell{0, 255}, floatCell(0.1, 32), floatCell(math.Inf(1), 64), rawJSON(`{"a":1}`), int64(-1) << 62}
	b, err := json.Marshal(row)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"$bytes":"AP8="},0.1,"Infinity",{"a":1},-4611686018427387904]`
	if string(b) != want {
		t.Fatalf("got %s, want %s", b, want)
	}
}
