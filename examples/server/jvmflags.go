package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/embedzk/zk"
)

// jvmProps are the Java system properties a ZooKeeper server takes from
// SERVER_JVMFLAGS or JVMFLAGS (zkServer.sh passes both to its JVM) that
// this server reads too:
//
//	-Djava.security.auth.login.config=FILE                    the JAAS file of the SASL users (zk.LoadJAAS)
//	-Dzookeeper.superUser=NAME                                the SASL super user
//	-Dzookeeper.DigestAuthenticationProvider.superDigest=D    the super digest
//	-Dzookeeper.enforce.auth.enabled=true                     enforced authentication,
//	-Dzookeeper.enforce.auth.schemes=sasl,digest              of these schemes
//	-Dzookeeper.sessionRequireClientSASLAuth=true             the same, for sasl alone
//	-Dzookeeper.admin.enableServer=false                      the AdminServer off (and its
//	-Dzookeeper.admin.serverPort=N                            port, address, command URL and
//	-Dzookeeper.admin.serverAddress=A                         idle timeout in ms)
//	-Dzookeeper.admin.commandURL=/commands
//	-Dzookeeper.admin.idleTimeout=MS
//	-Dzookeeper.admin.forceHttps=true                         HTTPS, or HTTPS and HTTP on one
//	-Dzookeeper.admin.portUnification=true                    port, with zoo.cfg's ssl.quorum.* stores
//	-Dzookeeper.4lw.commands.whitelist=ruok,srvr              the four-letter words
//	-Djute.maxbuffer=N                                        the request limit
//	-Dreadonlymode.enabled=true                               read-only mode
//	-Dzookeeper.snapCount=N                                   txns between snapshots
//	-Dznode.container.checkIntervalMs=MS                      the container sweep's period
//	-Dznode.container.maxPerMinute=N                          and rate
//	-Dzookeeper.skipACL=yes                                   no ACL checks
//	-Dzookeeper.maxCnxns=N                                    the connections of each client port
//	-Dzookeeper.globalOutstandingLimit=N                      the requests in flight
//	-Dzookeeper.forceSync=no                                  no fsync of the log before an ack
//	-Dzookeeper.leaderServes=no                               no client served by the leader
//	-Dzookeeper.DigestAuthenticationProvider.digestAlg=SHA-256  the digest scheme's hash
//	-Dzookeeper.DigestAuthenticationProvider.enabled=false      no digest scheme
//
// The last thirteen act as zoo.cfg lines of the same keys (zk reads them from
// zoo.cfg too) placed before zoo.cfg's own, so zoo.cfg's win (zooLines).
//
// -Dzookeeper.audit.enable=true, the audit log (zookeeper_audit.log in
// $ZOO_LOG_DIR, audit.go), acts so too, as zoo.cfg's audit.enable.
//
// A later flag wins, and SERVER_JVMFLAGS comes after JVMFLAGS, as on
// zkServer.sh's java command line; zoo.cfg's superUser,
// DigestAuthenticationProvider.superDigest and admin.* keys win over
// both, as ZooKeeper sets the system properties from zoo.cfg after its JVM
// started.
type jvmProps struct {
	jaas, superUser, superDigest         string
	enforce, enforceSchemes, requireSASL string
	admin                                map[string]string // admin.* key (without "zookeeper.") -> value
	zooLines                             string            // the properties that are zoo.cfg keys, as its lines
}

// zooKeyOf maps the properties zk reads as zoo.cfg keys to those keys.
var zooKeyOf = map[string]string{
	"zookeeper.audit.enable":           "audit.enable", // the audit log (audit.go)
	"zookeeper.4lw.commands.whitelist": "4lw.commands.whitelist", "jute.maxbuffer": "jute.maxbuffer",
	"readonlymode.enabled": "readonlymode.enabled", "zookeeper.snapCount": "snapCount",
	"znode.container.checkIntervalMs": "znode.container.checkIntervalMs",
	"znode.container.maxPerMinute":    "znode.container.maxPerMinute",
	"zookeeper.skipACL":               "skipACL", "zookeeper.maxCnxns": "maxCnxns",
	"zookeeper.globalOutstandingLimit": "globalOutstandingLimit", "zookeeper.forceSync": "forceSync",
	"zookeeper.leaderServes":                           "leaderServes",
	"zookeeper.DigestAuthenticationProvider.digestAlg": "DigestAuthenticationProvider.digestAlg",
	"zookeeper.DigestAuthenticationProvider.enabled":   "DigestAuthenticationProvider.enabled",
}

// readJVMFlags picks the properties above out of the environment's flags;
// getenv is os.Getenv.
func readJVMFlags(getenv func(string) string) jvmProps {
	var p jvmProps
	for _, v := range []string{"JVMFLAGS", "SERVER_JVMFLAGS"} {
		for _, f := range strings.Fields(getenv(v)) {
			key, value, ok := strings.Cut(strings.TrimPrefix(f, "-D"), "=")
			if !ok || !strings.HasPrefix(f, "-D") {
				continue
			}
			switch key {
			case "java.security.auth.login.config":
				p.jaas = value
			case "zookeeper.superUser":
				p.superUser = value
			case "zookeeper.DigestAuthenticationProvider.superDigest":
				p.superDigest = value
			case "zookeeper.enforce.auth.enabled":
				p.enforce = value
			case "zookeeper.enforce.auth.schemes":
				p.enforceSchemes = value
			case "zookeeper.sessionRequireClientSASLAuth":
				p.requireSASL = value
			case "zookeeper.admin.enableServer", "zookeeper.admin.serverPort", "zookeeper.admin.serverAddress",
				"zookeeper.admin.commandURL", "zookeeper.admin.idleTimeout", "zookeeper.admin.forceHttps",
				"zookeeper.admin.portUnification":
				if p.admin == nil {
					p.admin = map[string]string{}
				}
				p.admin[strings.TrimPrefix(key, "zookeeper.")] = value
			default:
				if k, ok := zooKeyOf[key]; ok {
					p.zooLines += k + "=" + value + "\n"
				}
			}
		}
	}
	return p
}

// apply sets what the properties give on cfg (the JAAS file is read now)
// where zoo.cfg did not; jaas, if not "", is the -jaas flag, which wins
// over the property.
func (p jvmProps) apply(cfg *zk.Config, jaas string) error {
	if jaas == "" {
		jaas = p.jaas
	}
	if jaas != "" {
		users, err := zk.LoadJAAS(jaas)
		if err != nil {
			return err
		}
		cfg.SASLUsers = users
	}
	if cfg.SASLSuperUser == "" {
		cfg.SASLSuperUser = p.superUser
	}
	if cfg.SuperDigest == "" {
		cfg.SuperDigest = p.superDigest
	}
	if cfg.EnforceAuthSchemes == nil {
		cfg.EnforceAuthSchemes = p.enforced()
	}
	return nil
}

// enforced is the schemes the enforcement properties name, read as
// ZooKeeper reads them (Java's Boolean.parseBoolean; an empty scheme is
// left for Validate to refuse).
func (p jvmProps) enforced() []string {
	switch {
	case strings.EqualFold(p.requireSASL, "true"):
		return []string{"sasl"}
	case !strings.EqualFold(p.enforce, "true"):
		return nil
	}
	out := []string{}
	for _, s := range strings.Split(p.enforceSchemes, ",") {
		out = append(out, strings.TrimSpace(s))
	}
	return out
}

// adminKeys are the AdminServer's zoo.cfg keys the properties may set.
var adminKeys = []string{"admin.enableServer", "admin.serverPort", "admin.serverAddress", "admin.commandURL", "admin.idleTimeout",
	"admin.forceHttps", "admin.portUnification"}

// applyAdmin sets the AdminServer's fields from the admin properties and
// zoo.cfg's text zooCfg: the properties are read as zoo.cfg lines placed
// before its own, so zoo.cfg's lines win.
func (p jvmProps) applyAdmin(cfg *zk.Config, zooCfg []byte) error {
	if len(p.admin) == 0 {
		return nil
	}
	var lines strings.Builder
	for _, key := range adminKeys {
		if v, ok := p.admin[key]; ok {
			lines.WriteString(key + "=" + v + "\n")
		}
	}
	for _, line := range strings.Split(string(zooCfg), "\n") {
		key, _, _ := strings.Cut(line, "=")
		// The HTTPS properties take the quorum's key stores.
		if key = strings.TrimSpace(key); slices.Contains(adminKeys, key) || strings.HasPrefix(key, "ssl.quorum.") {
			lines.WriteString(line + "\n")
		}
	}
	admin, _, err := zk.ParseZooCfg(strings.NewReader(lines.String()), nil)
	if err != nil {
		return fmt.Errorf("server: the admin properties of JVMFLAGS or SERVER_JVMFLAGS: %w", err)
	}
	cfg.AdminServerPort, cfg.AdminServerAddress = admin.AdminServerPort, admin.AdminServerAddress
	cfg.AdminCommandURL, cfg.AdminIdleTimeout = admin.AdminCommandURL, admin.AdminIdleTimeout
	cfg.AdminTLS, cfg.AdminPortUnification = admin.AdminTLS, admin.AdminPortUnification
	return nil
}
