package userflow_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/internal/userflow"
)

// TestPublic: a connector failure becomes its code and the code's plain
// message, without details; the flows' own errors are kept as they are;
// Detail keeps everything.
func TestPublic(t *testing.T) {
	dup := &engine.Error{Code: engine.CodeUserExists, Message: `ERROR: duplicate key value violates unique constraint "users_email_key" (SQLSTATE 23505): user already exists`,
		Details: map[string]string{"sqlstate": "23505"}}
	own := engine.Errorf(engine.CodeInvalidInput, "password must be 8 to 128 bytes")
	plain := errors.New("store: disk full")
	for _, tc := range []struct {
		name        string
		err         error
		code, msg   string
		same        bool
		detailHolds string
	}{
		{"duplicate key from the connector", &userflow.ConnectorError{Function: "createUser", Err: dup}, "user_exists", "the user already exists", false, "sqlstate=23505"},
		{"wrapped on the way", fmt.Errorf("register: %w", &userflow.ConnectorError{Function: "createUser", Err: dup}), "user_exists", "the user already exists", false, "users_email_key"},
		{"host timeout", &userflow.ConnectorError{Function: "login", Err: engine.Errorf(engine.CodeTimeout, "sql.query: the query ran past its time limit")}, "timeout", "the user store did not answer in time", false, "sql.query"},
		{"unknown code", &userflow.ConnectorError{Function: "login", Err: &engine.Error{Code: "db_error", Message: "lookup db on 10.0.0.2:53"}}, "db_error", "the connector failed", false, "10.0.0.2:53"},
		{"missing function", &userflow.ConnectorError{Function: "deleteUser", Err: engine.NotImplemented("deleteUser")}, "not_implemented", "Please implement the DeleteUser script for this database connection", false, "DeleteUser"},
		{"the flow's own validation", own, "invalid_input", "password must be 8 to 128 bytes", true, "password must be"},
		{"bad credentials", userflow.ErrBadCredentials, "wrong_password", "wrong account or password", true, "wrong account"},
		{"not a contract error", plain, "", "", true, "disk full"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pub := userflow.Public(tc.err)
			if tc.same != (pub == tc.err) {
				t.Fatalf("Public(%v) = %v", tc.err, pub)
			}
			if d := userflow.Detail(tc.err); !strings.Contains(d, tc.detailHolds) {
				t.Errorf("Detail %q lacks %q", d, tc.detailHolds)
			}
			if tc.code == "" {
				return
			}
			var ee *engine.Error
			if !errors.As(pub, &ee) || string(ee.Code) != tc.code || ee.Message != tc.msg {
				t.Fatalf("Public = %#v, want %s %q", pub, tc.code, tc.msg)
			}
			if !tc.same && ee.Details != nil {
				t.Errorf("public details %v", ee.Details)
			}
		})
	}
}
