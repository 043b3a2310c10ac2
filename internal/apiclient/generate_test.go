package apiclient

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// TestClientIsGenerated: client.gen.go is what oapi-codegen (this
// module's tool) generates from api/openapi.yaml today, so the client the
// api tests use is the document's.
func TestClientIsGenerated(t *testing.T) {
	out := t.TempDir() + "/client.gen.go"
	cmd := exec.Command("go", "tool", "oapi-codegen", "-generate", "types,client", "-package", "apiclient", "-o", out, "../../api/openapi.yaml")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oapi-codegen: %v\n%s", err, b)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("client.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("client.gen.go is not what api/openapi.yaml generates: run go generate ./internal/apiclient")
	}
}
