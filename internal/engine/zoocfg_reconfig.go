package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// setReconfigZooKey applies reconfigEnabled, dynamicConfigFile and
// quorumListenOnAllIPs (the keys of an ensemble's addresses).
func (c *Config) setReconfigZooKey(key, value string) (known bool, err error) {
	switch key {
	case "reconfigEnabled":
		c.ReconfigEnabled, err = zooBool(value)
		return true, err
	case "dynamicConfigFile":
		c.DynamicConfigFile = value
		return true, nil
	case "quorumListenOnAllIPs":
		c.QuorumListenOnAllIPs = strings.EqualFold(value, "true") // Java's Boolean.parseBoolean
		return true, nil
	}
	return false, nil
}

// loadDynamicConfig reads the dynamic configuration file zoo.cfg names:
// its server, group and weight lines are the membership (zoo.cfg must
// then have none).
func (c *Config) loadDynamicConfig() error {
	if c.DynamicConfigFile == "" {
		return nil
	}
	b, err := os.ReadFile(c.DynamicConfigFile)
	if err != nil {
		return fmt.Errorf("%w: dynamicConfigFile: %v", ErrInvalidConfig, err)
	}
	dc, err := ParseClusterConfig(b)
	if err != nil {
		return fmt.Errorf("%w: dynamicConfigFile %s: %w", ErrInvalidConfig, c.DynamicConfigFile, err)
	}
	if len(c.Servers) > 0 || len(c.Groups) > 0 || len(c.Weights) > 0 {
		return fmt.Errorf("%w: dynamicConfigFile: zoo.cfg has server, group or weight lines too (they belong in the dynamic file)", ErrInvalidConfig)
	}
	c.Servers, c.Groups, c.Weights = dc.Servers, dc.Groups, dc.Weights
	return nil
}

// writeDynamicConfig replaces the dynamic configuration file with c (a
// new file renamed over the old one), as ZooKeeper rewrites its own when a
// reconfig commits. A failure is logged: the tree keeps the configuration.
func (p *peer) writeDynamicConfig(c ClusterConfig) {
	path := p.cfg.DynamicConfigFile
	if path == "" {
		return
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".next")
	err := os.WriteFile(tmp, []byte(c.Text()+"\n"), 0o644)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		p.cfg.Logger.Error("zk: writing the dynamic configuration file", "path", path, "err", err)
	}
}
