package observability

// The typed forms of what the monitoring stack reads: Alertmanager's
// configuration, the PrometheusRule and PodMonitor specs, and Grafana's
// dashboard model. Each is the upstream format's own field names.

// AlertmanagerSettings is Alertmanager's configuration file.
type AlertmanagerSettings struct {
	Global       AlertmanagerGlobal `json:"global"`
	Route        AlertRoute         `json:"route"`
	Receivers    []AlertReceiver    `json:"receivers"`
	InhibitRules []InhibitRule      `json:"inhibit_rules,omitempty"`
}

// InhibitRule mutes the alerts matching TargetMatchers while one matching
// SourceMatchers fires with the same Equal labels.
type InhibitRule struct {
	SourceMatchers []string `json:"source_matchers"`
	TargetMatchers []string `json:"target_matchers"`
	Equal          []string `json:"equal"`
}

// AlertmanagerGlobal are the global settings.
type AlertmanagerGlobal struct {
	ResolveTimeout string `json:"resolve_timeout"`
}

// AlertRoute is a routing tree node.
type AlertRoute struct {
	Receiver       string       `json:"receiver"`
	GroupBy        []string     `json:"group_by,omitempty"`
	GroupWait      string       `json:"group_wait,omitempty"`
	GroupInterval  string       `json:"group_interval,omitempty"`
	RepeatInterval string       `json:"repeat_interval,omitempty"`
	Matchers       []string     `json:"matchers,omitempty"`
	Routes         []AlertRoute `json:"routes,omitempty"`
}

// AlertReceiver is where alerts go; a receiver without configs drops them.
type AlertReceiver struct {
	Name           string          `json:"name"`
	WebhookConfigs []WebhookConfig `json:"webhook_configs,omitempty"`
}

// WebhookConfig posts alerts to a URL read from a file (a mounted Secret).
type WebhookConfig struct {
	URLFile      string `json:"url_file"`
	SendResolved bool   `json:"send_resolved"`
}

// RuleSpecValue is a PrometheusRule's spec.
type RuleSpecValue struct {
	Groups []Group `json:"groups"`
}

// PodMonitorSpec is a PodMonitor's spec.
type PodMonitorSpec struct {
	NamespaceSelector   NamespaceSelector    `json:"namespaceSelector"`
	Selector            LabelSelector        `json:"selector"`
	PodMetricsEndpoints []PodMetricsEndpoint `json:"podMetricsEndpoints"`
}

// NamespaceSelector lists the namespaces a monitor looks in.
type NamespaceSelector struct {
	MatchNames []string `json:"matchNames"`
}

// LabelSelector selects by labels.
type LabelSelector struct {
	MatchLabels map[string]string `json:"matchLabels"`
}

// PodMetricsEndpoint is a scraped port.
type PodMetricsEndpoint struct {
	Port     string `json:"port"`
	Path     string `json:"path"`
	Interval string `json:"interval"`
}

// Grafana's dashboard model, the subset the dashboards use. Fields are in
// the order of their JSON names, so the rendered JSON lists keys sorted.

// GrafanaDashboard is a dashboard.
type GrafanaDashboard struct {
	Editable      bool           `json:"editable"`
	Panels        []GrafanaPanel `json:"panels"`
	SchemaVersion int            `json:"schemaVersion"`
	Tags          []string       `json:"tags"`
	Time          GrafanaTime    `json:"time"`
	Title         string         `json:"title"`
	UID           string         `json:"uid"`
}

// GrafanaTime is the default time range.
type GrafanaTime struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// GrafanaPanel is a time-series or text panel.
type GrafanaPanel struct {
	FieldConfig GrafanaFieldConfig  `json:"fieldConfig"`
	GridPos     GrafanaGridPos      `json:"gridPos"`
	ID          int                 `json:"id"`
	Options     *GrafanaTextOptions `json:"options,omitempty"`
	Targets     []GrafanaTarget     `json:"targets"`
	Title       string              `json:"title"`
	Type        string              `json:"type"`
}

// GrafanaTextOptions are a text panel's content.
type GrafanaTextOptions struct {
	Content string `json:"content"`
	Mode    string `json:"mode"`
}

// GrafanaFieldConfig sets the panel's unit.
type GrafanaFieldConfig struct {
	Defaults  GrafanaFieldDefaults `json:"defaults"`
	Overrides []struct{}           `json:"overrides"`
}

// GrafanaFieldDefaults are the field defaults.
type GrafanaFieldDefaults struct {
	Unit string `json:"unit"`
}

// GrafanaGridPos places a panel on the 24-column grid.
type GrafanaGridPos struct {
	H int `json:"h"`
	W int `json:"w"`
	X int `json:"x"`
	Y int `json:"y"`
}

// GrafanaTarget is one PromQL query.
type GrafanaTarget struct {
	Expr         string `json:"expr"`
	LegendFormat string `json:"legendFormat"`
	RefID        string `json:"refId"`
}
