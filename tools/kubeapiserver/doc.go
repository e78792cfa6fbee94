// Package kubeapiserver pins the kube-apiserver the API-server test tier
// builds (`go build k8s.io/kubernetes/cmd/kube-apiserver` from this module).
package kubeapiserver
