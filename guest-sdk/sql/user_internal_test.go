package sql

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

func TestScanUser(t *testing.T) {
	tests := []struct {
		name   string
		result string
		extra  int // string destinations
		want   sluice.User
		extras []string
		err    string
	}{
		{
			name: "snake_case columns, NULLs and a jsonb document",
			result: `{"columns":["id","email","email_verified","given_name","gender","blocked","custom_data","coalesce"],"types":["int8","text","bool","text","text","bool","jsonb","text"],` +
				`"rows":[[42,"ada@example.com",true,"Ada",null,false,{"plan":"pro","n":7},"$2a$10$h"]]}`,
			extra:  1,
			want:   sluice.User{ID: "42", Email: "ada@example.com", EmailVerified: true, GivenName: "Ada", CustomData: map[string]any{"plan": "pro", "n": 7.0}},
			extras: []string{"$2a$10$h"},
		},
		{
			name:   "camelCase names in any case, MySQL booleans, MariaDB JSON text, escapes",
			result: `{"columns":["ID","emailVerified","PHONE_VERIFIED","familyName","customData"],"rows":[["u-1",1,0,"O\"Brien \u00e9","{\"a\":[1,null]}"]]}`,
			want:   sluice.User{ID: "u-1", EmailVerified: true, FamilyName: `O"Brien é`, CustomData: map[string]any{"a": []any{1.0, nil}}},
		},
		{
			name:   "NULL and empty custom data",
			result: `{"columns":["id","custom_data","website"],"rows":[["1",null,""]]}`,
			want:   sluice.User{ID: "1"},
		},
		{
			name:   "other columns without destinations",
			result: `{"columns":["id","password_hash","created_at"],"rows":[["1","h","2024-01-01"]]}`,
			err:    `2 columns that are no profile field ("password_hash", "created_at")`,
		},
		{
			name:   "custom data that is no object",
			result: `{"columns":["id","custom_data"],"rows":[["1","[1,2]"]]}`,
			err:    `column "custom_data": custom data is not a JSON object`,
		},
		{
			name:   "a boolean column that is no boolean",
			result: `{"columns":["id","blocked"],"rows":[["1","yes"]]}`,
			err:    `column "blocked"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := decodeRows([]byte(tt.result))
			if err != nil {
				t.Fatal(err)
			}
			if !rows.Next() {
				t.Fatal("no row")
			}
			extras := make([]string, tt.extra)
			dest := make([]any, tt.extra)
			for i := range extras {
				dest[i] = &extras[i]
			}
			u := sluice.User{Nickname: "left from before"}
			err = rows.ScanUser(&u, dest...)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(u, tt.want) || !reflect.DeepEqual(extras, append([]string{}, tt.extras...)) {
				got, _ := json.Marshal(u)
				t.Errorf("got %s %q, want %+v %q", got, extras, tt.want, tt.extras)
			}
		})
	}
}

// TestScanUserRepeatedResult reads two results with the same columns:
// the second reuses the first's column list, and each keeps its own
// cells.
func TestScanUserRepeatedResult(t *testing.T) {
	var users []sluice.User
	for _, email := range []string{"a@example.com", "b@example.com"} {
		rows, err := decodeRows([]byte(`{"columns":["id","email"],"types":["int8","text"],"rows":[[1,"` + email + `"]]}`))
		if err != nil {
			t.Fatal(err)
		}
		var u sluice.User
		if rows.Next(); rows.ScanUser(&u) != nil {
			t.Fatal("ScanUser failed")
		}
		users = append(users, u)
	}
	if users[0].Email != "a@example.com" || users[1].Email != "b@example.com" {
		t.Errorf("users %+v", users)
	}
}
