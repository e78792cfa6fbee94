//go:build !linux

package apiserver

import "syscall"

// dieWithParent is Linux's parent-death signal; elsewhere a killed test
// may leave its children running (Stop still ends them).
func dieWithParent() *syscall.SysProcAttr { return nil }
