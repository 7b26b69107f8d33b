package http1

import (
	"testing"
	"time"
)

// TestDeadlineLazy: a deadline is set unless the one in effect is at most
// the slack (300 ms, at most timeout/8) earlier than wanted; a later one,
// an unknown one or one further back is always replaced.
func TestDeadlineLazy(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		current time.Duration // current deadline relative to now+timeout; 0 = unknown
		unknown bool
		set     bool
	}{
		{"unknown", time.Minute, 0, true, true},
		{"just set", time.Minute, -time.Millisecond, false, false},
		{"within 300ms", time.Minute, -250 * time.Millisecond, false, false},
		{"beyond 300ms", time.Minute, -400 * time.Millisecond, false, true},
		{"later than wanted", time.Minute, 100 * time.Millisecond, false, true},
		{"slack is an eighth of a short timeout", 80 * time.Millisecond, -20 * time.Millisecond, false, true},
		{"within an eighth", 80 * time.Millisecond, -2 * time.Millisecond, false, false},
		{"expired", time.Second, -2 * time.Second, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d deadline
			if !tt.unknown {
				d.at = time.Now().Add(tt.timeout + tt.current)
			}
			before := d.at
			at, set := d.next(tt.timeout)
			if set != tt.set {
				t.Fatalf("set = %v, want %v", set, tt.set)
			}
			if set && !d.at.Equal(at) {
				t.Errorf("in effect %v, set %v", d.at, at)
			}
			if !set && !d.at.Equal(before) {
				t.Errorf("skipped, but the deadline in effect changed")
			}
			if d.at.Before(time.Now()) {
				t.Errorf("deadline in effect is already past")
			}
			d.forget()
			if _, set := d.next(tt.timeout); !set {
				t.Error("not set after forget")
			}
		})
	}
}
