// Package layout holds the tests of the module's shape, learned from the go
// command (`go list`), not from reading source: no package over 2,000
// non-test lines, and nothing under shared/ reaching into local/, tests
// included (local/ may import shared/, never the reverse). It has no code of
// its own outside its tests.
package layout
