//go:build !linux

package realserver

import "syscall"

func sysProcAttr(syscall.Signal) *syscall.SysProcAttr { return nil }

func unmountUnder(string) {}
