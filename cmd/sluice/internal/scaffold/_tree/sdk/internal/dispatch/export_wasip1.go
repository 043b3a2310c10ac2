package dispatch

import (
	"context"

	"github.com/sluice-dev/sluice/guest-sdk/internal/abi"
)

// Export serves the export's call: it reads the input of inputLen bytes,
// runs the function, writes the output and returns the status.
func (s *Slot[In]) Export(inputLen int32) int32 {
	output, status := s.Run(context.Background(), abi.ReadInput(inputLen))
	abi.WriteOutput(output)
	return status
}
