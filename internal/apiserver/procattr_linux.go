package apiserver

import "syscall"

// dieWithParent has the kernel kill a child when the test process dies,
// so that a killed test leaves no etcd or kube-apiserver behind.
func dieWithParent() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
