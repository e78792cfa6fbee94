package routing

import (
	"encoding/json"
	"strings"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
)

// ClientConfigMapTypeToken is the type of routing's in-cluster half.
var ClientConfigMapTypeToken = kit.Type("routing", "ClientConfigMap")

// ClientConfigMapName is the ConfigMap applications read.
const ClientConfigMapName = "pulsar-client-config"

// ClientConfigMapDeps are what the client ConfigMap needs.
type ClientConfigMapDeps struct {
	// Provider places the ConfigMap.
	Provider *kubernetes.Provider
	// DependsOn are what the ConfigMap waits for (the Pulsar namespace it
	// goes in).
	DependsOn []pulumi.Resource
	// FormerParent is the Routing component the ConfigMap was registered
	// under before it became a component of its own; its alias keeps a
	// running stack's ConfigMap in place. Nil for one built alone.
	FormerParent pulumi.Resource
}

// Validate reports a missing provider.
func (d ClientConfigMapDeps) Validate() error {
	return kit.Missing(map[string]any{"provider": d.Provider})
}

// ClientConfigMap is routing's in-cluster half: the client configuration
// (ComputeClientConfig) as a ConfigMap in the Pulsar namespace. The
// ConfigMap is mutable (the cluster's provider sets
// enableConfigMapMutable): a change of phase or of the fleet's regions
// updates it in place, so applications never find it missing.
type ClientConfigMap struct {
	pulumi.ResourceState
	// JSON is the client configuration as JSON.
	JSON pulumi.StringOutput
}

// NewClientConfigMap publishes the client configuration. It needs no AWS
// resource, so it can be built alone against any API server.
func NewClientConfigMap(ctx *pulumi.Context, name string, cfg Config, deps ClientConfigMapDeps, opts ...pulumi.ResourceOption) (*ClientConfigMap, error) {
	c := &ClientConfigMap{}
	return kit.Construct(ctx, ClientConfigMapTypeToken, name, cfg, deps, c, func(cfg Config, parent pulumi.ResourceOption) (pulumi.Map, error) {
		cc := ComputeClientConfig(cfg)
		ccJSON, err := json.Marshal(cc)
		if err != nil {
			return nil, err
		}
		c.JSON = pulumi.String(string(ccJSON)).ToStringOutput()
		data := pulumi.StringMap{"serviceUrl": pulumi.String(cc.ServiceURL), "webServiceUrl": pulumi.String(cc.WebServiceURL),
			"regionalServiceUrl": pulumi.String(cc.RegionalServiceURL), "failoverServiceUrls": pulumi.String(strings.Join(cc.FailoverURLs, ",")),
			"client.json": pulumi.String(string(ccJSON))}
		if _, err := corev1.NewConfigMap(ctx, name+"-client", &corev1.ConfigMapArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(ClientConfigMapName), Namespace: pulumi.String(cfg.Namespace)},
			Data:     data,
		}, parent, pulumi.Provider(deps.Provider), pulumi.DependsOn(deps.DependsOn), kit.MovedFrom(deps.FormerParent)); err != nil {
			return nil, err
		}
		return pulumi.Map{"clientConfig": c.JSON}, nil
	}, opts...)
}
