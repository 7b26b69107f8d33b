//go:build !race

package main

// directivesRace reports that the race detector is on; allocation
// counts are then meaningless.
const directivesRace = false
