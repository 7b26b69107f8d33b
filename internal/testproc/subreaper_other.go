//go:build !linux

package testproc

// becomeSubreaper does nothing where there are no subreapers: orphans go
// to init, which reaps them.
func becomeSubreaper() {}
