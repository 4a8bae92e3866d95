//go:build !linux

package services

import "syscall"

// dieWithParent has no portable equivalent: elsewhere a test binary that
// is killed leaves its services running until they are stopped by hand.
func dieWithParent(*syscall.SysProcAttr) {}
