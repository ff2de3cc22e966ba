package engine

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestZooCfgMetricsProvider: the seeds' zoo.cfg lines for ZooKeeper's
// Prometheus provider give the address to serve /metrics on; another
// provider's keys are ignored; bad values are errors naming the key.
func TestZooCfgMetricsProvider(t *testing.T) {
	for _, tc := range []struct {
		cfg     string
		addr    string
		ignored []string
	}{
		{cfg: "metricsProvider.className=" + PrometheusMetricsProvider + "\nmetricsProvider.httpHost=0.0.0.0\n" +
			"metricsProvider.httpPort=7000\nmetricsProvider.exportJvmInfo=true\n",
			addr: "0.0.0.0:7000", ignored: []string{"metricsProvider.exportJvmInfo"}},
		// Keys in any order, defaults as ZooKeeper's.
		{cfg: "metricsProvider.httpPort=7001\nmetricsProvider.className=" + PrometheusMetricsProvider + "\n",
			addr: "0.0.0.0:7001"},
		{cfg: "metricsProvider.className=" + PrometheusMetricsProvider + "\nmetricsProvider.httpHost=::1\n",
			addr: "[::1]:7000"},
		// No provider, or ZooKeeper's default one: no address.
		{cfg: "metricsProvider.httpPort=7000\n", ignored: []string{"metricsProvider.httpPort"}},
		{cfg: "metricsProvider.className=org.apache.zookeeper.metrics.impl.DefaultMetricsProvider\n",
			ignored: []string{"metricsProvider.className"}},
		{cfg: "dataDir=/x\n"},
	} {
		got, ignored, err := ParseZooCfg(strings.NewReader(tc.cfg), nil)
		if err != nil {
			t.Fatalf("%q: %v", tc.cfg, err)
		}
		if got.MetricsHTTPAddress != tc.addr || !slices.Equal(ignored, tc.ignored) {
			t.Errorf("%q: address %q, ignored %q; want %q, %q", tc.cfg, got.MetricsHTTPAddress, ignored, tc.addr, tc.ignored)
		}
	}
	for _, bad := range []string{"metricsProvider.httpPort=seven", "metricsProvider.httpPort=70000",
		"metricsProvider.exportJvmInfo=yes"} {
		_, _, err := ParseZooCfg(strings.NewReader(bad), nil)
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), strings.Split(bad, "=")[0]) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
