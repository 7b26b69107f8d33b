//go:build !linux

package request

import "net"

// hangupProbe is the client hang-up check, which needs Linux's
// POLLRDHUP; elsewhere a hang-up is seen only when a write fails.
type hangupProbe struct{}

func newHangupProbe(net.Conn) *hangupProbe { return &hangupProbe{} }

func (*hangupProbe) hungUp() bool { return false }
