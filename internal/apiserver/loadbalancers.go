package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// ServeLoadBalancers stands in for the cloud's service controller and the
// endpoints controller, which the tier does not run, until ctx ends: every
// Service of type LoadBalancer without an address gets one ready endpoint
// per port and a load balancer hostname in its status, as an AWS NLB
// would (<name>-0123456789abcdef.elb.<region>.amazonaws.com). It lets a
// client that waits for a load balancer (the Kubernetes provider's Service
// await) see one.
func (s *Server) ServeLoadBalancers(ctx context.Context, region string, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = s.provisionLoadBalancers(ctx, region)
		}
	}
}

type serviceList struct {
	Items []struct {
		Metadata struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
		Spec struct {
			Type  string `json:"type"`
			Ports []struct {
				Name     string `json:"name"`
				Port     int    `json:"port"`
				Protocol string `json:"protocol"`
			} `json:"ports"`
		} `json:"spec"`
		Status struct {
			LoadBalancer struct {
				Ingress []any `json:"ingress"`
			} `json:"loadBalancer"`
		} `json:"status"`
	} `json:"items"`
}

func (s *Server) provisionLoadBalancers(ctx context.Context, region string) error {
	code, body, err := s.do(ctx, http.MethodGet, "/api/v1/services", "", nil)
	if err != nil || code != http.StatusOK {
		return fmt.Errorf("list services: %d %v", code, err)
	}
	var list serviceList
	if err := json.Unmarshal(body, &list); err != nil {
		return err
	}
	for _, svc := range list.Items {
		if svc.Spec.Type != "LoadBalancer" || len(svc.Status.LoadBalancer.Ingress) > 0 {
			continue
		}
		ns, name := svc.Metadata.Namespace, svc.Metadata.Name
		var ports []map[string]any
		for _, p := range svc.Spec.Ports {
			ports = append(ports, map[string]any{"name": p.Name, "port": p.Port, "protocol": p.Protocol})
		}
		endpoints := map[string]any{"apiVersion": "v1", "kind": "Endpoints", "metadata": map[string]any{"name": name, "namespace": ns},
			"subsets": []any{map[string]any{"addresses": []any{map[string]any{"ip": "10.0.0.10"}}, "ports": ports}}}
		if err := s.Apply(ctx, endpoints, false); err != nil {
			return err
		}
		status := map[string]any{"status": map[string]any{"loadBalancer": map[string]any{"ingress": []any{
			map[string]any{"hostname": fmt.Sprintf("%s-0123456789abcdef.elb.%s.amazonaws.com", name, region)}}}}}
		b, _ := json.Marshal(status)
		path := fmt.Sprintf("/api/v1/namespaces/%s/services/%s/status", ns, name)
		if code, body, err := s.do(ctx, http.MethodPatch, path, "application/merge-patch+json", b); err != nil || code != http.StatusOK {
			return fmt.Errorf("set %s/%s status: %d %v %s", ns, name, code, err, body)
		}
	}
	return nil
}

// Get reads an API path (for a test's diagnostics).
func (s *Server) Get(ctx context.Context, path string) ([]byte, error) {
	code, body, err := s.do(ctx, http.MethodGet, path, "", nil)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return body, fmt.Errorf("GET %s: %d", path, code)
	}
	return body, nil
}
