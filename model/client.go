package model

// ClientSettings are the producer and client settings recommended per
// phase, named as the Java client's configuration keys
// (ClientConfigurationData / ProducerConfigurationData loadConf names).
// The planner sets them; routing publishes them to applications in the
// client ConfigMap. Fields are in the order of their JSON names, so the
// published JSON lists its keys sorted.
type ClientSettings struct {
	BatchingEnabled               bool   `json:"batchingEnabled"`
	BatchingMaxMessages           int    `json:"batchingMaxMessages"`
	BatchingMaxPublishDelayMicros int64  `json:"batchingMaxPublishDelayMicros"`
	BlockIfQueueFull              bool   `json:"blockIfQueueFull"`
	CompressionType               string `json:"compressionType"`
	ConnectionsPerBroker          int    `json:"connectionsPerBroker"`
	MaxPendingMessages            int    `json:"maxPendingMessages"`
	MaxPendingMessagesAcrossParts int    `json:"maxPendingMessagesAcrossPartitions"`
	NumIoThreads                  int    `json:"numIoThreads"`
	OperationTimeoutMs            int    `json:"operationTimeoutMs"`
	SendTimeoutMs                 int    `json:"sendTimeoutMs"`
}
