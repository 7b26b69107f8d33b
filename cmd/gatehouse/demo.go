package main

import "fmt"

// runDemo runs the seed's complete example on loopback.
func runDemo(args []string, io stdio) int {
	fmt.Fprintln(io.err, "gatehouse: demo is not available yet")
	return 1
}
