package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/gitops"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

// plainWebhook is a secret value that must never appear in plain text.
const plainWebhook = "https://hooks.example.com/services/T0/B0/s3cr3t-webhook-token"

// stackFilesWithSecureWebhook copies the committed stack files with the
// webhook set as a secure value, as `pulumi config set --secret` writes it.
func stackFilesWithSecureWebhook(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	pf, err := os.ReadFile(filepath.Join(root, "Pulumi.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), pf, 0o600))
	files, err := stacks.StackFiles(root)
	require.NoError(t, err)
	for _, sf := range files {
		b, err := os.ReadFile(sf.Path)
		require.NoError(t, err)
		b = append(b, []byte("  pulsar-fleet:alertWebhookUrl:\n    secure: v1:c2VjcmV0\n")...)
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(sf.Path)), b, 0o600))
	}
	return dir
}

// The real program, handed the decrypted webhook URL as the engine hands
// it over, keeps it secret: the preview JSON shows "[secret]", never the
// value, and so it does for the generated Grafana password.
func TestNoSecretInPlainText(t *testing.T) {
	res, err := stacks.PreviewOffline(stacks.OfflineOptions{Dir: stackFilesWithSecureWebhook(t), Catalog: catalog(t),
		Secrets: map[string]string{stacks.Key("alertWebhookUrl"): plainWebhook}})
	require.NoError(t, err)
	require.Len(t, res.Stacks, 3)
	b, err := json.Marshal(res)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "s3cr3t-webhook-token", "the preview JSON carries the webhook URL in plain text")
	key := recorder.SimulatedTokenKey()
	keyBody := strings.Split(key, "\n")[2]
	assert.NotContains(t, string(b), keyBody, "the preview JSON carries the fleet token key")
	for _, st := range res.Stacks {
		assert.Equal(t, plainWebhook, st.Config.AlertWebhookURL.Reveal(), "%s: the program got the real value", st.Stack)
		hook, err := st.Recorder.One("kubernetes:core/v1:Secret", st.Stack+"-alert-webhook")
		require.NoError(t, err, st.Stack)
		assert.Equal(t, "[secret]", hook.Input("stringData"), "%s: the Secret's data is a Pulumi secret", st.Stack)
		// The Pulsar credentials minted from the fleet key: the token
		// Secrets' data is secret, and no token nor the key is in the JSON.
		roles := pulsar.RolesOf(pulsar.Config{Cluster: st.Stack})
		for _, role := range roles.Minted() {
			sec, err := st.Recorder.One("kubernetes:core/v1:Secret", st.Stack+"-token-"+role)
			require.NoError(t, err, st.Stack)
			assert.Equal(t, "[secret]", sec.Input("stringData"), "%s: %s", st.Stack, role)
		}
		for _, role := range []string{roles.Admin, roles.Replicator} {
			token, err := pulsar.MintToken(recorder.SimulatedTokenKey(), role)
			require.NoError(t, err)
			assert.NotContains(t, string(b), token[strings.LastIndex(token, ".")+1:], "%s: the %s token's signature is in the preview JSON", st.Stack, role)
		}
		if st.Role == "primary" {
			admin, err := st.Recorder.One("kubernetes:core/v1:Secret", st.Stack+"-grafana-admin")
			require.NoError(t, err)
			assert.Equal(t, "[secret]", admin.Input("stringData"))
		}
	}

	// The stack files hold no secret in plain text, and neither do the
	// generated GitOps files and workflows.
	files, err := stacks.StackFiles(root)
	require.NoError(t, err)
	fleet, err := stacks.FleetFromFiles(files)
	require.NoError(t, err)
	for _, sf := range files {
		body, err := os.ReadFile(sf.Path)
		require.NoError(t, err)
		assert.NotContains(t, strings.ToLower(string(body)), "hooks.", sf.Path)
	}
	rendered, err := gitops.Render(fleet, gitops.DefaultOptions())
	require.NoError(t, err)
	for path, body := range rendered {
		for _, s := range []string{"AKIA", "hooks.", "s3cr3t", "BEGIN PRIVATE KEY"} { // gitops.TestNoSecretValues checks the shapes in depth
			assert.NotContains(t, string(body), s, path)
		}
	}
}

// Every stack grants Kubernetes access to its configured principals and to
// the CI and operator roles, one entry and one association each.
func TestAccessEntriesInEveryStack(t *testing.T) {
	res, err := stacks.PreviewOffline(stacks.OfflineOptions{Dir: root, Catalog: catalog(t)})
	require.NoError(t, err)
	for _, st := range res.Stacks {
		want := map[string]string{}
		for _, g := range st.Config.Cluster.Access.Grants() {
			want[g.PrincipalARN] = g.Policy.ARN()
		}
		require.Len(t, want, 5, st.Stack)
		got := map[string]string{}
		for _, r := range st.Recorder.ByType("aws:eks/accessPolicyAssociation:AccessPolicyAssociation") {
			got[r.Inputs["principalArn"].(string)] = r.Inputs["policyArn"].(string)
		}
		assert.Equal(t, want, got, st.Stack)
		assert.Len(t, st.Recorder.ByType("aws:eks/accessEntry:AccessEntry"), 5+1, "%s: the principals, CI, the operator and Karpenter's nodes", st.Stack)
	}
}
