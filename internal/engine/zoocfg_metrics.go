package engine

import (
	"fmt"
	"net"
	"strconv"
)

// zoo.cfg's metrics provider keys, as ZooKeeper 3.8 reads them. zk has one
// provider (Prometheus, on Config.Registerer); a zoo.cfg that names
// ZooKeeper's PrometheusMetricsProvider gets Config.MetricsHTTPAddress, the
// address its /metrics endpoint listens on, which a host (examples/server)
// serves. Another provider's keys are returned as ignored.
const (
	keyMetricsClass   = "metricsProvider.className"
	keyMetricsHost    = "metricsProvider.httpHost"
	keyMetricsPort    = "metricsProvider.httpPort"
	keyMetricsJVMInfo = "metricsProvider.exportJvmInfo"

	// PrometheusMetricsProvider is ZooKeeper's class name for its
	// Prometheus metrics provider.
	PrometheusMetricsProvider = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"
)

// zooMetrics collects the metrics provider keys while zoo.cfg is parsed.
type zooMetrics struct {
	class, host string
	port        int
	seen        []string
}

// set records key if it is a metrics provider key.
func (m *zooMetrics) set(key, value string) (known bool, err error) {
	switch key {
	case keyMetricsClass:
		m.class = value
	case keyMetricsHost:
		m.host = value
	case keyMetricsPort:
		p, err := strconv.Atoi(value)
		if err != nil || p < 1 || p > 65535 {
			return true, fmt.Errorf("%q is not a port (1..65535)", value)
		}
		m.port = p
	case keyMetricsJVMInfo:
		if _, err := zooBool(value); err != nil {
			return true, err
		}
	default:
		return false, nil
	}
	m.seen = append(m.seen, key)
	return true, nil
}

// apply sets cfg's metrics address if the provider is Prometheus (defaults
// 0.0.0.0:7000, as ZooKeeper's), and returns the keys zk does not use.
func (m *zooMetrics) apply(cfg *Config) (ignored []string) {
	if m.class != PrometheusMetricsProvider {
		return m.seen // no provider, or one zk does not have
	}
	host, port := m.host, m.port
	if host == "" {
		host = "0.0.0.0"
	}
	if port == 0 {
		port = 7000
	}
	cfg.MetricsHTTPAddress = net.JoinHostPort(host, strconv.Itoa(port))
	for _, k := range m.seen {
		if k == keyMetricsJVMInfo {
			ignored = append(ignored, k) // there is no JVM
		}
	}
	return ignored
}
