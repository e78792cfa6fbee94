package model

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestChartSourceLocatesEachChart(t *testing.T) {
	for _, tc := range []struct {
		source, public   string
		wantRef, wantURL string
	}{
		{"", "oci://public.ecr.aws/karpenter", "oci://public.ecr.aws/karpenter/karpenter", ""},
		{"", "https://pulsar.apache.org/charts", "pulsar", "https://pulsar.apache.org/charts"},
		{"oci://registry.example.com/charts/", "https://pulsar.apache.org/charts", "oci://registry.example.com/charts/pulsar", ""},
		{"https://charts.example.com/stable", "oci://public.ecr.aws/karpenter", "karpenter", "https://charts.example.com/stable"},
		{"/opt/charts", "https://pulsar.apache.org/charts", "/opt/charts/pulsar", ""},
		{"./charts", "https://pulsar.apache.org/charts", "charts/pulsar", ""},
	} {
		chart := "pulsar"
		if tc.wantRef == "karpenter" || tc.wantRef == "oci://public.ecr.aws/karpenter/karpenter" {
			chart = "karpenter"
		}
		ref, url := ChartSource(tc.source).Locate(chart, tc.public)
		assert.Equal(t, tc.wantRef, ref, tc.source)
		assert.Equal(t, tc.wantURL, url, tc.source)
	}
}

func TestChartSourceRefusesOtherForms(t *testing.T) {
	for _, bad := range []string{"http://charts.example.com", "oci://", "s3://bucket/charts", "https://x/y?token=1"} {
		assert.Error(t, ChartSource(bad).Validate(), bad)
	}
	for _, good := range []string{"", "oci://r.example.com/c", "https://c.example.com/stable", "/opt/charts", "./charts", "."} {
		assert.NoError(t, ChartSource(good).Validate(), good)
	}
}
