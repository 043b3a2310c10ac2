package scaffold

import (
	"os/exec"
	"testing"
)

// TestTreeIsGenerated: the embedded tree is what ./gen makes from the
// repository's guest-sdk/ and examples/ today, so `sluice new` writes
// the SDK and templates of this commit.
func TestTreeIsGenerated(t *testing.T) {
	out, err := exec.Command("go", "run", "./gen", "-check").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}
