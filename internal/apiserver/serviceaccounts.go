package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// CAFile is the certificate the server serves with, as a pod finds it in
// its service account's ca.crt.
func (s *Server) CAFile() string { return s.caFile }

// ServiceAccountToken mints a token for a service account through the
// TokenRequest API, as the kubelet does for a pod that runs as it. The
// account must exist.
func (s *Server) ServiceAccountToken(ctx context.Context, ns, name string) (string, error) {
	path := "/api/v1/namespaces/" + url.PathEscape(ns) + "/serviceaccounts/" + url.PathEscape(name) + "/token"
	req := []byte(`{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":3600}}`)
	code, body, err := s.do(ctx, http.MethodPost, path, "application/json", req)
	if err != nil {
		return "", err
	}
	if code != http.StatusCreated && code != http.StatusOK {
		return "", fmt.Errorf("token for %s/%s: %d %s", ns, name, code, body)
	}
	var tr struct {
		Status struct {
			Token string `json:"token"`
		} `json:"status"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.Status.Token == "" {
		return "", fmt.Errorf("token for %s/%s: no token in %s", ns, name, body)
	}
	return tr.Status.Token, nil
}

// StatusAs is the API server's status code for a GET of path with token
// (a service account's, say): what that identity may read.
func (s *Server) StatusAs(ctx context.Context, token, path string) (int, error) {
	code, _, err := s.doAs(ctx, token, http.MethodGet, path, "", nil)
	return code, err
}
